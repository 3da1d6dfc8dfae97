import { describe, expect, it } from 'vitest';
import { isValidSharedSecret, openEnvelope } from '../../src/index.js';
import { defaultAad } from '../../src/wire.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

describe('kompliant-webhooks/testing', () => {
  it('generateSharedSecret returns base64 of 32 fresh random bytes', () => {
    const a = generateSharedSecret();
    const b = generateSharedSecret();
    expect(isValidSharedSecret(a)).toBe(true);
    expect(Buffer.from(a, 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('createTestWebhook encrypts exactly as the spec says: nonce || ciphertext || tag with the default AAD', () => {
    const secret = generateSharedSecret();
    const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_07', eventType: 'DOCUMENT_UPLOADED', data: { a: 1 } });
    const bytes = Buffer.from(envelope.data, 'base64');
    expect(bytes.length).toBe(12 + JSON.stringify({ a: 1 }).length + 16);
    expect(openEnvelope(envelope, secret).data).toEqual({ a: 1 });
    expect(defaultAad(envelope).toString()).toBe(
      JSON.stringify({
        id: envelope.id,
        event_type: 'DOCUMENT_UPLOADED',
        timestamp: envelope.timestamp,
        account_id: envelope.account_id,
        schema_version: '2025-11-21',
        key_id: 'whk_20251121_07',
      }),
    );
  });

  it('makes a fresh nonce, id and timestamp-format on every call; overrides win', () => {
    const secret = generateSharedSecret();
    const a = createTestWebhook({ secret });
    const b = createTestWebhook({ secret });
    expect(a.id).toMatch(/^wh_[A-Za-z0-9]{22}$/);
    expect(a.id).not.toBe(b.id);
    expect(Buffer.from(a.data, 'base64').subarray(0, 12)).not.toEqual(Buffer.from(b.data, 'base64').subarray(0, 12));
    expect(a.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const fixed = createTestWebhook({ secret, id: 'wh_fixed', timestamp: '2025-11-21T14:30:22Z', retry_count: 4 });
    expect(fixed).toMatchObject({ id: 'wh_fixed', timestamp: '2025-11-21T14:30:22Z', retry_count: 4 });
  });

  it('supports the aad option for senders configured differently', () => {
    const secret = generateSharedSecret();
    const envelope = createTestWebhook({ secret, aad: 'none' });
    expect(openEnvelope(envelope, secret, { aad: 'none' }).id).toBe(envelope.id);
    expect(() => openEnvelope(envelope, secret)).toThrowError(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
    const custom = (m: { id: string }) => `custom:${m.id}`;
    const envelope2 = createTestWebhook({ secret, aad: custom });
    expect(openEnvelope(envelope2, secret, { aad: custom }).id).toBe(envelope2.id);
  });

  it('refuses a malformed keyId', () => {
    expect(() => createTestWebhook({ secret: generateSharedSecret(), keyId: 'whk_1' })).toThrow(TypeError);
  });
});
