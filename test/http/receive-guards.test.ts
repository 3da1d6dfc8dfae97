// Edges of the receive path found by mutation testing: which content types are JSON, a store answering null, the receiver's argument checks.
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, memoryKeyStore, type KeyStore } from '../../src/index.js';
import { createHttpHandler } from '../../src/http/handler.js';
import type { HttpRequestHead } from '../../src/http/request.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';

const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });

describe('the Content-Type a webhook may carry', () => {
  const handler = createHttpHandler<undefined>({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: () => undefined, logger: false }, 'test');
  const status = async (contentType: string) => {
    const head: HttpRequestHead = { method: 'POST', header: (name) => ({ 'content-type': contentType, 'content-length': '1' })[name], ip: '127.0.0.1' };
    const result = await handler.handle(head, () => envelope(), undefined);
    return result.kind === 'answer' ? result.answer.status : 0;
  };

  it.each(['application/json ; charset=utf-8', 'application/json; charset=utf8', 'application/json; charset=UTF-8', 'application/json; charset= utf-8', 'application/json; version=2', 'application/vnd.kompliant+json'])(
    '%j is JSON',
    async (contentType) => {
      expect(await status(contentType)).toBe(200);
    },
  );

  it.each(['application/vnd.kompliant+jsonp', 'text/application/x+json', 'application/json; charset=latin1'])('%j is 415', async (contentType) => {
    expect(await status(contentType)).toBe(415);
  });
});

describe('the receiver', () => {
  it('a store that answers null is UNKNOWN_KEY, not INVALID_KEY', async () => {
    const store: KeyStore = { getSecret: () => Promise.resolve(null as never) };
    await expect(createWebhookReceiver({ keyStore: store, cache: false }).receive(envelope())).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('a store that never settles is 503 at keyStoreTimeoutMs, with a message giving the deadline', async () => {
    const store: KeyStore = { getSecret: () => new Promise(() => undefined) };
    await expect(createWebhookReceiver({ keyStore: store, cache: false, keyStoreTimeoutMs: 20 }).receive(envelope())).rejects.toMatchObject({
      code: 'KEY_STORE_UNAVAILABLE',
      message: 'Key store lookup did not settle within 20 ms',
    });
  });

  it('a traceLink of null is ignored', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }) });
    await expect(receiver.handle(envelope(), () => undefined, { traceLink: null as never })).resolves.toMatchObject({ duplicate: false });
  });

  it('names itself in option errors, and checks handle()\'s arguments with messages', async () => {
    const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
    expect(() => createWebhookReceiver({ keyStore, bogus: 1 } as never)).toThrow('createWebhookReceiver: unknown option "bogus"');
    const receiver = createWebhookReceiver({ keyStore });
    await expect(receiver.handle(envelope(), 'save' as never)).rejects.toThrow('handle: handler must be a function');
    for (const handlerTimeoutMs of ['5000', 0]) {
      await expect(receiver.handle(envelope(), () => undefined, { handlerTimeoutMs: handlerTimeoutMs as never })).rejects.toThrow('handle: handlerTimeoutMs must be a positive number');
    }
  });
});

describe('the HTTP handler\'s answers and settles', () => {
  it('an error answered after the body was read carries neither Allow nor Connection: close', async () => {
    const handler = createHttpHandler<undefined>({ keyStore: memoryKeyStore({}), onEvent: () => undefined, logger: false }, 'test');
    const head: HttpRequestHead = { method: 'POST', header: (name) => ({ 'content-type': 'application/json', 'content-length': '1' })[name] };
    const result = await handler.handle(head, () => envelope(), undefined);
    expect(result).toMatchObject({ kind: 'answer', answer: { status: 401 } });
    expect(result.kind === 'answer' && result.answer.headers).toEqual({});
  });

  it.each([199, 300])('a pass settled with %i is a failure, reported as HANDLER_FAILED', async (status) => {
    const codes: string[] = [];
    const handler = createHttpHandler<undefined>({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onError: (error) => void codes.push(`${error.code} ${error.message}`), logger: false }, 'test');
    const head: HttpRequestHead = { method: 'POST', header: (name) => ({ 'content-type': 'application/json', 'content-length': '1' })[name] };
    const result = await handler.handle(head, () => envelope(), undefined);
    if (result.kind !== 'pass') throw new Error('expected a pass');
    result.settle(status);
    expect(codes).toEqual([`HANDLER_FAILED Application answered ${status}`]);
  });
});
