import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import {
  WebhookError,
  createWebhookReceiver,
  kompliantWebhook,
  memoryKeyStore,
  openEnvelope,
  type KeyStore,
} from '../../src/index.js';
import { decryptData, defaultAad } from '../../src/wire.js';
import { createTestWebhook, sealData } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET, createTestApp } from '../support/app.js';
import express from 'express';

describe('AES-256-GCM layout', () => {
  const key = Buffer.alloc(32, 7);
  const aad = Buffer.from('aad');

  it('requires the full 16-byte tag', () => {
    const sealed = sealData(key, Buffer.from('{"a":1}'), aad);
    expect(decryptData(key, sealed, aad).toString()).toBe('{"a":1}');
    for (const cut of [1, 4, 8]) {
      expect(() => decryptData(key, sealed.subarray(0, sealed.length - cut), aad)).toThrowError(
        expect.objectContaining({ code: 'DECRYPTION_FAILED' }),
      );
    }
  });

  it('uses a 12-byte nonce: reading the layout with another nonce length fails', () => {
    // The same ciphertext read as if the nonce were 16 bytes must not authenticate.
    const sealed = sealData(key, Buffer.from('{"a":1}'), aad);
    expect(() => sealData(key, Buffer.from('x'), aad, Buffer.alloc(16))).toThrow(TypeError);
    const shifted = Buffer.concat([sealed.subarray(0, 12), Buffer.alloc(4), sealed.subarray(12)]);
    expect(() => decryptData(key, shifted, aad)).toThrowError(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
  });

  it('rejects a secret that is not 32 bytes with INVALID_KEY', () => {
    const sealed = sealData(key, Buffer.from('{}'), aad);
    expect(() => decryptData(Buffer.alloc(16), sealed, aad)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
    expect(() => decryptData(Buffer.alloc(16).toString('base64'), sealed, aad)).toThrowError(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });
});

describe('payload rules', () => {
  function sealedEnvelope(plaintext: Buffer) {
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const data = sealData(SECRET, plaintext, defaultAad(envelope));
    return { ...envelope, data: data.toString('base64') };
  }

  it.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['an overlong UTF-8 encoding', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])],
    ['a UTF-8 BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')])],
    ['UTF-16', Buffer.from('{"a":1}', 'utf16le')],
    ['a JSON array', Buffer.from('[1,2,3]')],
    ['a JSON string', Buffer.from('"hello"')],
    ['JSON null', Buffer.from('null')],
    ['not JSON', Buffer.from('hello')],
    ['empty', Buffer.alloc(0)],
  ])('rejects an authenticated payload with %s as INVALID_PAYLOAD', (_name, plaintext) => {
    expect(() => openEnvelope(sealedEnvelope(plaintext), SECRET)).toThrowError(
      expect.objectContaining({ code: 'INVALID_PAYLOAD' }),
    );
  });

  it('keeps __proto__ and constructor keys in the payload inert', () => {
    const envelope = sealedEnvelope(
      Buffer.from('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"version":"1.0"}'),
    );
    const event = openEnvelope(envelope, SECRET);
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(event.data)).toBe(Object.prototype);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.hasOwn(event.data, '__proto__')).toBe(true);
  });

  it('ignores a __proto__ field in the envelope and builds the event from known fields only', async () => {
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const body = JSON.stringify(envelope).replace(/^\{/, '{"__proto__":{"polluted":true,"isAdmin":true},');
    const { app, onEvent } = createTestApp();
    await request(app).post(PATH).set('content-type', 'application/json').send(body).expect(200);
    const event = onEvent.mock.calls[0]?.[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(event.isAdmin).toBeUndefined();
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('nothing secret leaves through errors', () => {
  const PLAINTEXT_MARKER = 'TOP-SECRET-PLAINTEXT-MARKER';

  function everythingSaid(error: unknown): string {
    const e = error as WebhookError;
    return [e.message, String(e.stack), JSON.stringify(e), JSON.stringify(e.toJSON?.())].join('\n');
  }

  it('no error message, stack, JSON or onError payload holds the secret, data or plaintext', async () => {
    const errors: unknown[] = [];
    const good = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { marker: PLAINTEXT_MARKER } as never });
    const other = createTestWebhook({ secret: Buffer.alloc(32, 9), keyId: KEY_ID, data: { marker: PLAINTEXT_MARKER } as never });
    const tampered = { ...good, data: `${good.data.slice(0, 10)}${good.data[10] === 'A' ? 'B' : 'A'}${good.data.slice(11)}` };
    const failing: KeyStore = { getSecret: () => Promise.reject(new Error('store down')) };
    const bad: KeyStore = { getSecret: () => Promise.resolve('c2hvcnQ=') };
    const cases: Array<[KeyStore, unknown]> = [
      [memoryKeyStore({ [KEY_ID]: SECRET }), other],
      [memoryKeyStore({ [KEY_ID]: SECRET }), tampered],
      [memoryKeyStore({ [KEY_ID]: SECRET }), { ...good, key_id: 'whk_20990101_01' }],
      [memoryKeyStore({ [KEY_ID]: SECRET }), { ...good, data: 'not base64 !' }],
      [failing, good],
      [bad, good],
    ];
    for (const [keyStore, body] of cases) {
      const receiver = createWebhookReceiver({ keyStore, onError: (e) => errors.push(e) });
      await expect(receiver.receive(body)).rejects.toBeInstanceOf(WebhookError);
    }
    expect(errors.map((e) => (e as WebhookError).code)).toEqual([
      'DECRYPTION_FAILED',
      'DECRYPTION_FAILED',
      'UNKNOWN_KEY',
      'INVALID_ENVELOPE',
      'KEY_STORE_UNAVAILABLE',
      'INVALID_KEY',
    ]);
    for (const error of errors) {
      const said = everythingSaid(error);
      expect(said).not.toContain(SECRET);
      expect(said).not.toContain(good.data.slice(0, 24));
      expect(said).not.toContain(PLAINTEXT_MARKER);
    }
  });

  it('HTTP error bodies hold only code and message', async () => {
    const onError = vi.fn();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: vi.fn(), onError }));
    const envelope = createTestWebhook({ secret: Buffer.alloc(32, 1), keyId: KEY_ID });
    const res = await request(app).post(PATH).send(envelope).expect(401);
    expect(res.body).toEqual({ error: { code: 'DECRYPTION_FAILED', message: 'Decryption failed' } });
    expect(JSON.stringify(res.body)).not.toContain(envelope.data.slice(0, 16));
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'DECRYPTION_FAILED', status: 401 });
  });

  it('keeps a key-store failure as the cause for logs, not in the response', async () => {
    const cause = new Error('AccessDeniedException: arn:aws:secretsmanager:...');
    const onError = vi.fn();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: { getSecret: () => Promise.reject(cause) }, onEvent: vi.fn(), onError }));
    const res = await request(app).post(PATH).send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(503);
    expect(res.body.error.code).toBe('KEY_STORE_UNAVAILABLE');
    expect(JSON.stringify(res.body)).not.toContain('AccessDenied');
    expect((onError.mock.calls[0]![0] as WebhookError).cause).toBe(cause);
  });
});
