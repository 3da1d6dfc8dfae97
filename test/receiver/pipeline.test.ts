import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, decryptData, memoryKeyStore, openEnvelope } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

describe('decryption failures skip stack capture without leaking the setting', () => {
  const secret = generateSharedSecret();
  const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });

  it.each([
    ['success', () => openEnvelope(envelope, secret)],
    ['tampered metadata', () => openEnvelope({ ...envelope, event_type: 'TAMPERED' }, secret)],
    ['wrong key', () => openEnvelope(envelope, generateSharedSecret())],
    ['too short for a tag', () => decryptData(secret, new Uint8Array(27), new Uint8Array(0))],
  ])('Error.stackTraceLimit is unchanged after %s', (_name, run) => {
    const before = Error.stackTraceLimit;
    try {
      run();
    } catch {
      // Only the limit matters here.
    }
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('probe').stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('a tampered request is still one opaque DECRYPTION_FAILED (401) through receive()', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ whk_20251121_01: secret }) });
    const at = envelope.data.length >> 1;
    const data = envelope.data.slice(0, at) + (envelope.data.charAt(at) === 'A' ? 'B' : 'A') + envelope.data.slice(at + 1);
    await expect(receiver.receive({ ...envelope, data })).rejects.toMatchObject({
      code: 'DECRYPTION_FAILED',
      status: 401,
      message: 'Decryption failed',
    });
    await expect(receiver.receive(envelope)).resolves.toMatchObject({ id: envelope.id });
  });

  it('still decrypts and rejects when Error.stackTraceLimit cannot be written (frozen intrinsics)', () => {
    const original = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
    Object.defineProperty(Error, 'stackTraceLimit', { value: 10, writable: false, configurable: true });
    try {
      expect(openEnvelope(envelope, secret).id).toBe(envelope.id);
      expect(() => openEnvelope({ ...envelope, event_type: 'TAMPERED' }, secret)).toThrow(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
    } finally {
      if (original !== undefined) Object.defineProperty(Error, 'stackTraceLimit', original);
    }
    expect(Error.stackTraceLimit).toBe(original?.value);
  });
});
