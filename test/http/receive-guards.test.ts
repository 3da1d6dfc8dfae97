// Edges of the receive path found by mutation testing: which content types are JSON, a store answering null, the receiver's argument checks.
import diagnosticsChannel from 'node:diagnostics_channel';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  DELIVERY_CHANNEL_NAME,
  memoryKeyStore,
  type DeliveryChannelMessage,
  type Inbox,
  type InboxMeta,
  type KeyStore,
  type KompliantEnvelope,
} from '../../src/index.js';
import { createHttpHandler } from '../../src/http/handler.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';
import { httpHead } from '../support/http-head.js';

const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });
/** A handler whose onEvent does nothing, with the test key. */
const eventHandler = () => createHttpHandler<undefined>({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: () => undefined, logger: false }, 'test');

describe('the Content-Type a webhook may carry', () => {
  const handler = eventHandler();
  const status = async (contentType: string) => {
    const result = await handler.handle(httpHead({ headers: { 'content-type': contentType } }), () => envelope(), undefined);
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
    const result = await handler.handle(httpHead(), () => envelope(), undefined);
    expect(result).toMatchObject({ kind: 'answer', answer: { status: 401 } });
    expect(result.kind === 'answer' && result.answer.headers).toEqual({});
  });

  it.each([199, 300])('a pass settled with %i is a failure, reported as HANDLER_FAILED', async (status) => {
    const codes: string[] = [];
    const handler = createHttpHandler<undefined>({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onError: (error) => void codes.push(`${error.code} ${error.message}`), logger: false }, 'test');
    const result = await handler.handle(httpHead(), () => envelope(), undefined);
    if (result.kind !== 'pass') throw new Error('expected a pass');
    result.settle(status);
    expect(codes).toEqual([`HANDLER_FAILED Application answered ${status}`]);
  });
});

describe('a request without a Content-Type', () => {
  const handler = eventHandler();
  const answer = async (headers: Record<string, string | undefined>, body: unknown) => {
    const result = await handler.handle(httpHead({ headers: { 'content-type': undefined, 'content-length': undefined, ...headers } }), () => body, undefined);
    return result.kind === 'answer' ? `${result.answer.status} ${(result.answer.body as { error?: { code: string } }).error?.code ?? ''}`.trim() : 'pass';
  };

  it.each([{ 'content-length': '10' }, { 'transfer-encoding': 'chunked' }])('announcing a body (%j) is 415 before the body is read', async (headers) => {
    expect(await answer(headers, JSON.stringify(envelope()))).toBe('415 UNSUPPORTED_MEDIA_TYPE');
  });

  it.each([{}, { 'content-length': '0' }])('without a body (%j) is 400 INVALID_JSON, not 415', async (headers) => {
    expect(await answer(headers, undefined)).toBe('400 INVALID_JSON');
  });
});

describe('options and modes of the HTTP handler', () => {
  it('inbox and onEvent together are refused', () => {
    const inbox: Inbox = { enqueue: () => Promise.resolve() };
    expect(() => createHttpHandler({ keyStore: memoryKeyStore({}), inbox, onEvent: () => undefined }, 'test')).toThrow(
      new TypeError('inbox and onEvent cannot be used together: the inbox worker runs the handler'),
    );
  });

  it('with an inbox, a verified envelope is enqueued once, still encrypted, and answered 200', async () => {
    const jobs: Array<[KompliantEnvelope, InboxMeta]> = [];
    const inbox: Inbox = {
      enqueue: (queued, meta) => {
        jobs.push([queued, meta]);
        return Promise.resolve();
      },
    };
    const handler = createHttpHandler<undefined>({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), inbox, logger: false }, 'test');
    const sent = envelope();
    const result = await handler.handle(httpHead(), () => JSON.stringify(sent), undefined);
    expect(result).toMatchObject({ kind: 'answer', answer: { status: 200 } });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]![0].data).toBe(sent.data);
    expect(jobs[0]![1]).toMatchObject({ eventId: sent.id, accountId: sent.account_id, keyId: KEY_ID });
  });

  it('a body read as sent that is not what its Content-Encoding says is 400 INVALID_JSON', async () => {
    const handler = eventHandler();
    const result = await handler.handle(httpHead({ headers: { 'content-encoding': 'gzip' } }), () => Buffer.from(JSON.stringify(envelope())), undefined);
    expect(result).toMatchObject({ kind: 'answer', answer: { status: 400, body: { error: { code: 'INVALID_JSON' } } } });
  });

  it('a gzip body read as sent (no parser in front) is inflated before it is opened', async () => {
    const handler = eventHandler();
    const result = await handler.handle(httpHead({ headers: { 'content-encoding': 'gzip' } }), () => gzipSync(JSON.stringify(envelope())), undefined);
    expect(result).toMatchObject({ kind: 'answer', answer: { status: 200 } });
  });
});

describe('the receive path and the delivery channel', () => {
  const channel = diagnosticsChannel.tracingChannel<unknown, DeliveryChannelMessage>(DELIVERY_CHANNEL_NAME);

  it('the channel message names the event while the handler runs, not only at the end', async () => {
    let message: DeliveryChannelMessage | undefined;
    const handlers = { start: (m: unknown) => void (message = m as DeliveryChannelMessage), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    channel.subscribe(handlers);
    try {
      const sent = envelope();
      let seenInHandler: unknown;
      await createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), logger: false }).handle(sent, () => {
        seenInHandler = message?.event?.id;
      });
      expect(seenInHandler).toBe(sent.id);
    } finally {
      channel.unsubscribe(handlers);
    }
  });

  it('an error that is no WebhookError ends the traced delivery as 500 HANDLER_FAILED "Internal error"', async () => {
    const errors: Array<{ code?: string; message?: string }> = [];
    const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error: (m: unknown) => void errors.push({ code: (m as DeliveryChannelMessage).code, message: (m as DeliveryChannelMessage).error?.message }) };
    channel.subscribe(handlers);
    try {
      const aad = (): Uint8Array => {
        throw new Error('aad bug');
      };
      const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), aad, logger: false });
      await expect(receiver.handle(envelope(), () => undefined)).rejects.toThrow('aad bug');
      expect(errors).toEqual([{ code: 'HANDLER_FAILED', message: 'Internal error' }]);
    } finally {
      channel.unsubscribe(handlers);
    }
  });

  it("the caller's deadline caps the handler: handle(..., { handlerTimeoutMs }) under the receiver's own", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), logger: false });
      let outcome = 'pending';
      receiver.handle(envelope(), () => new Promise(() => undefined), { handlerTimeoutMs: 100 }).then(
        () => (outcome = 'handled'),
        (error: { code?: string }) => (outcome = error.code ?? 'other'),
      );
      await vi.advanceTimersByTimeAsync(99);
      expect(outcome).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      expect(outcome).toBe('HANDLER_TIMEOUT');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('which failures ask the key store for a corrected secret (refetchSecret)', () => {
  /** A store with refetchSecret, recording both kinds of call. */
  const recordingStore = () => {
    const calls: string[] = [];
    const store: KeyStore = {
      getSecret: () => {
        calls.push('get');
        return Promise.resolve(SECRET);
      },
      refetchSecret: () => {
        calls.push('refetch');
        return Promise.resolve(SECRET);
      },
    };
    return { store, calls };
  };

  it('a payload that is not a JSON object (INVALID_PAYLOAD) is no decryption failure: no refetch', async () => {
    const { store, calls } = recordingStore();
    const receiver = createWebhookReceiver({ keyStore: store, cache: false, logger: false });
    await expect(receiver.receive(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: [1, 2] as never }))).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(calls).toEqual(['get']);
  });

  it('an error with a DECRYPTION_FAILED code that is no WebhookError (a custom aad bug) is not one either', async () => {
    const { store, calls } = recordingStore();
    const aad = (): Uint8Array => {
      throw Object.assign(new Error('aad bug'), { code: 'DECRYPTION_FAILED' });
    };
    const receiver = createWebhookReceiver({ keyStore: store, cache: false, aad, logger: false });
    await expect(receiver.receive(envelope())).rejects.toThrow('aad bug');
    expect(calls).toEqual(['get']);
  });

  it('a real DECRYPTION_FAILED asks once', async () => {
    const { store, calls } = recordingStore();
    const receiver = createWebhookReceiver({ keyStore: store, cache: false, logger: false });
    const forged = createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID });
    await expect(receiver.receive(forged)).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    expect(calls).toEqual(['get', 'refetch']);
  });
});
