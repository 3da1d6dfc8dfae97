import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, memoryKeyStore } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const KEY_ID = 'whk_20251121_01';
const secret = generateSharedSecret();

describe('createWebhookReceiver().handle per-call options', () => {
  it('handlerTimeoutMs caps the receiver-wide handler timeout for one call (a queue consumer\'s own deadline)', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }), handlerTimeoutMs: 60_000 });
    const body = createTestWebhook({ secret, keyId: KEY_ID });
    await expect(receiver.handle(body, () => new Promise(() => {}), { handlerTimeoutMs: 30 })).rejects.toMatchObject({ code: 'HANDLER_TIMEOUT', status: 503 });
  });

  it('a larger per-call deadline does not extend the receiver-wide one', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }), handlerTimeoutMs: 30 });
    const body = createTestWebhook({ secret, keyId: KEY_ID });
    await expect(receiver.handle(body, () => new Promise(() => {}), { handlerTimeoutMs: 60_000 })).rejects.toMatchObject({ code: 'HANDLER_TIMEOUT' });
  });

  it('refuses a handlerTimeoutMs that is not a positive number', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }) });
    const body = createTestWebhook({ secret, keyId: KEY_ID });
    await expect(receiver.handle(body, () => {}, { handlerTimeoutMs: 0 })).rejects.toThrow(TypeError);
  });
});
