import { describe, expect, it, vi } from 'vitest';
import { createWebhookStats, memoryKeyStore, WebhookError } from '../../src/index.js';
import { answerRequest, createHttpHandler } from '../../src/http/handler.js';
import type { HttpRequestHead } from '../../src/http/request.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';
import { httpHead as head } from '../support/http-head.js';

// The framework-free HTTP handler every adapter awaits: head checks inside the body read, the one
// receive path, and what its outcome becomes (an answer, or a pass the application settles).

const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });
const keyStore = () => memoryKeyStore({ [KEY_ID]: SECRET });

describe('createHttpHandler', () => {
  it('answers 200 once onEvent resolved, then 200 duplicate for the same id without calling it again', async () => {
    const onEvent = vi.fn(async () => undefined);
    const handler = createHttpHandler<string>({ keyStore: keyStore(), onEvent, logger: false }, 'test');
    const sent = envelope();
    const first = await handler.handle(head(), () => sent, 'request-1');
    expect(first).toMatchObject({ kind: 'answer', answer: { status: 200, body: { received: true } }, event: { id: sent.id } });
    expect(onEvent).toHaveBeenCalledWith(expect.objectContaining({ id: sent.id }), 'request-1');
    const again = await handler.handle(head(), () => Promise.resolve(JSON.stringify(sent)), 'request-2');
    expect(again).toMatchObject({ kind: 'answer', answer: { status: 200, body: { received: true, duplicate: true } } });
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('checks the head before reading the body: a refused request never reads it, and is counted, logged and passed to onError', async () => {
    const onError = vi.fn();
    const stats = createWebhookStats();
    const readBody = vi.fn();
    const handler = createHttpHandler<string>({ keyStore: keyStore(), onEvent: vi.fn(), onError, stats, logger: false, allowedIps: ['10.0.0.0/8'] }, 'test');
    const cases: Array<[HttpRequestHead, number, string]> = [
      [head({ ip: '192.0.2.1' }), 403, 'FORBIDDEN_IP'],
      [head({ ip: '10.1.1.1', method: 'GET' }), 405, 'METHOD_NOT_ALLOWED'],
      [head({ ip: '10.1.1.1', headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [requestHead, status, code] of cases) {
      const result = await handler.handle(requestHead, readBody, 'ctx');
      expect(result).toMatchObject({ kind: 'answer', answer: { status, body: { error: { code } } } });
    }
    expect(readBody).not.toHaveBeenCalled();
    expect(onError.mock.calls.map(([error, context]) => [(error as WebhookError).code, context])).toEqual(cases.map(([, , code]) => [code, 'ctx']));
    expect(stats.snapshot().rejected).toMatchObject({ FORBIDDEN_IP: 1, METHOD_NOT_ALLOWED: 1, UNSUPPORTED_MEDIA_TYPE: 1 });
  });

  it('a body reader that throws or rejects with a WebhookError is that answer', async () => {
    const handler = createHttpHandler<undefined>({ keyStore: keyStore(), onEvent: vi.fn(), logger: false }, 'test');
    const throwing = (): never => {
      throw new WebhookError('PAYLOAD_TOO_LARGE');
    };
    expect(await handler.handle(head(), throwing, undefined)).toMatchObject({ answer: { status: 413 } });
    expect(await handler.handle(head(), () => Promise.reject(new WebhookError('REQUEST_TIMEOUT')), undefined)).toMatchObject({ answer: { status: 408 } });
  });

  it('without onEvent, passes the event on; the status it is settled with marks the id done or frees it', async () => {
    const handler = createHttpHandler<undefined>({ keyStore: keyStore(), logger: false }, 'test');
    const sent = envelope();
    const passed = await handler.handle(head(), () => sent, undefined);
    expect(passed).toMatchObject({ kind: 'pass', event: { id: sent.id } });
    expect(await handler.handle(head(), () => sent, undefined)).toMatchObject({ answer: { status: 409 } });
    if (passed.kind === 'pass') passed.settle(500);
    await vi.waitFor(async () => expect((await handler.handle(head(), () => sent, undefined)).kind).toBe('pass'));
  });

  it('an error that is not a WebhookError rejects (the adapter answers it); answerRequest makes it a 500 reported to onError', async () => {
    const onError = vi.fn();
    const boom = new Error('bug');
    const handler = createHttpHandler<undefined>({ keyStore: keyStore(), onEvent: vi.fn(), onError, logger: false }, 'test');
    await expect(handler.handle(head(), () => Promise.reject(boom), undefined)).rejects.toBe(boom);
    expect(onError).not.toHaveBeenCalled();
    const answer = await answerRequest(handler, () => head(), () => Promise.reject(boom), undefined);
    expect(answer).toMatchObject({ status: 500, body: { error: { code: 'HANDLER_FAILED', message: 'Internal error' } } });
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'HANDLER_FAILED', cause: boom }), undefined);
  });
});
