import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';

const keyStore = memoryKeyStore({ whk_20251121_01: generateSharedSecret() });

describe('options are checked once, at construction', () => {
  it.each([
    ['keyStore', {}],
    ['keyStore', { keyStore: null }],
    ['keyStore', { keyStore: {} }],
    ['keyStore', { keyStore: { getSecret: 'nope' } }],
    ['aad', { keyStore, aad: 'sometimes' }],
    ['maxBodyBytes', { keyStore, maxBodyBytes: 0 }],
    ['maxBodyBytes', { keyStore, maxBodyBytes: 1.5 }],
    ['maxBodyBytes', { keyStore, maxBodyBytes: '1mb' }],
    ['readTimeoutMs', { keyStore, readTimeoutMs: -1 }],
    ['onEvent', { keyStore, onEvent: 'handler' }],
    ['onError', { keyStore, onError: 42 }],
    ['"keystore"', { keyStore, keystore: keyStore }],
  ])('kompliantWebhook throws a TypeError naming %s', (name, options) => {
    expect(() => kompliantWebhook(options as never)).toThrowError(new RegExp(name.replace(/"/g, '.')));
    expect(() => kompliantWebhook(options as never)).toThrow(TypeError);
  });

  it('createWebhookReceiver rejects HTTP-only options', () => {
    expect(() => createWebhookReceiver({ keyStore, readTimeoutMs: 5 } as never)).toThrow(/readTimeoutMs/);
  });

  it('throws for a non-object', () => {
    expect(() => kompliantWebhook(undefined as never)).toThrow(TypeError);
  });
});

describe('memoryKeyStore', () => {
  it('accepts a record or a Map of base64 or raw 32-byte secrets', async () => {
    const raw = new Uint8Array(32).fill(3);
    const fromMap = memoryKeyStore(new Map([['whk_20251121_02', raw]]));
    expect(await fromMap.getSecret('whk_20251121_02')).toEqual(raw);
    expect(await fromMap.getSecret('whk_20251121_03')).toBeUndefined();
  });

  it.each([
    ['a 16-byte secret', Buffer.alloc(16).toString('base64')],
    ['a 33-byte secret', Buffer.alloc(33).toString('base64')],
    ['url-safe base64', Buffer.alloc(32, 0xfb).toString('base64url')],
    ['an empty secret', ''],
    ['a number', 42],
  ])('throws a TypeError naming the key id, never the secret, for %s', (_name, secret) => {
    let message = '';
    try {
      memoryKeyStore({ whk_20251121_01: secret as string });
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      message = (error as Error).message;
    }
    expect(message).toContain('whk_20251121_01');
    if (typeof secret === 'string' && secret.length > 0) expect(message).not.toContain(secret);
  });

  it('throws for a key id that could never be looked up', () => {
    expect(() => memoryKeyStore({ 'kompliant/webhook/whk_1': generateSharedSecret() })).toThrow(/whk_YYYYMMDD_NN/);
  });
});

describe('accounts and keyStoreTimeoutMs on every entry point', () => {
  it('are accepted by the receiver and every adapter, and checked at construction', async () => {
    const { createFetchHandler } = await import('../../src/fetch.js');
    const { createLambdaHandler } = await import('../../src/lambda.js');
    const ok = { keyStore, accounts: ['lv_A', 'sb_B'], keyStoreTimeoutMs: 2_000 };
    expect(() => createWebhookReceiver(ok)).not.toThrow();
    expect(() => kompliantWebhook(ok)).not.toThrow();
    expect(() => createFetchHandler({ ...ok, onEvent: () => undefined })).not.toThrow();
    expect(() => createLambdaHandler({ ...ok, onEvent: () => undefined })).not.toThrow();
    expect(() => createWebhookReceiver({ keyStore, accounts: [] })).toThrow(/accounts must be a non-empty array/);
    expect(() => createWebhookReceiver({ keyStore, accounts: ['lv A'] })).toThrow(/accounts: "lv A" is not an account id/);
    // A number whose text would match the pattern is still no account id.
    expect(() => createWebhookReceiver({ keyStore, accounts: [123 as never] })).toThrow('accounts: "123" is not an account id');
    // A long bad entry is quoted by its first 64 characters only.
    const long = `lv ${'x'.repeat(200)}`;
    expect(() => createWebhookReceiver({ keyStore, accounts: [long] })).toThrow(`accounts: ${JSON.stringify(long.slice(0, 64))} is not an account id`);
    expect(() => createWebhookReceiver({ keyStore, keyStoreTimeoutMs: 0 })).toThrow(/keyStoreTimeoutMs/);
  });
});
