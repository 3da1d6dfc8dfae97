import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, memoryKeyStore, openEnvelope } from '../../src/index.js';
import { decryptData } from '../../src/wire.js';
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

describe('KeyStore.refetchSecret: a store of your own takes the cache\'s path after a decryption failure', () => {
  const keyId = 'whk_20251121_01';

  it('is asked once with the secret that failed, and its new secret opens the envelope (no cache in front)', async () => {
    const stale = generateSharedSecret();
    const current = generateSharedSecret();
    const calls: Array<{ keyId: string; accountId: string; used: unknown }> = [];
    const keyStore = {
      getSecret: async () => stale,
      refetchSecret: async (id: string, context: { accountId: string; used: unknown }) => {
        calls.push({ keyId: id, accountId: context.accountId, used: context.used });
        return current;
      },
    };
    const receiver = createWebhookReceiver({ keyStore, cache: false, logger: false });
    const envelope = createTestWebhook({ secret: current, keyId });
    await expect(receiver.receive(envelope)).resolves.toMatchObject({ id: envelope.id });
    expect(calls).toEqual([{ keyId, accountId: envelope.account_id, used: stale }]);
  });

  it('keeps DECRYPTION_FAILED when refetchSecret gives the same secret, nothing, or fails', async () => {
    const stale = generateSharedSecret();
    const envelope = createTestWebhook({ secret: generateSharedSecret(), keyId });
    for (const refetchSecret of [async () => stale, async () => undefined, async () => Promise.reject(new Error('down'))]) {
      const receiver = createWebhookReceiver({ keyStore: { getSecret: async () => stale, refetchSecret }, cache: false, logger: false });
      await expect(receiver.receive(envelope)).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    }
  });

  it('refuses a refetchSecret that is not a function', () => {
    expect(() => createWebhookReceiver({ keyStore: { getSecret: async () => undefined, refetchSecret: 1 } as never })).toThrow(/keyStore\.refetchSecret must be a function/);
  });
});
