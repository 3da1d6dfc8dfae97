import { describe, expect, it, vi } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import { createLambdaHandler } from '../../src/lambda.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { functionUrlEvent, httpApiEvent, restApiEvent } from '../support/lambda-events.js';

const secret = generateSharedSecret();
const keyStore = memoryKeyStore({ whk_20251121_01: secret });
const body = (): string => JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' }));

describe('createLambdaHandler', () => {
  it('hands onEvent the Lambda event as context and returns a proxy result', async () => {
    const onEvent = vi.fn();
    const handler = createLambdaHandler({ keyStore, onEvent });
    const event = httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    const result = await handler(event);
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body: '{"received":true}',
      isBase64Encoded: false,
    });
    expect(onEvent.mock.calls[0]?.[1]).toBe(event);
  });

  it('checks the content type even when the event has no Content-Length header', async () => {
    const handler = createLambdaHandler({ keyStore, onEvent() {} });
    const result = await handler(functionUrlEvent({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: body() }));
    expect(result.statusCode).toBe(415);
  });

  it('joins repeated REST API headers from multiValueHeaders', async () => {
    const handler = createLambdaHandler({ keyStore, onEvent() {} });
    const event = restApiEvent({ method: 'POST', headers: {}, body: body() });
    event.multiValueHeaders = { ...event.multiValueHeaders, 'Content-Type': ['application/json', 'text/plain'] };
    event.headers = { ...event.headers, 'Content-Type': 'text/plain' };
    // "application/json,text/plain" is not a JSON media type: the joined value decides, not the last one.
    expect((await handler(event)).statusCode).toBe(415);
  });

  it('answers 400 INVALID_JSON for a base64 body that is not canonical base64', async () => {
    const handler = createLambdaHandler({ keyStore, onEvent() {} });
    const event = functionUrlEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: 'not base64!' });
    event.isBase64Encoded = true;
    const result = await handler(event);
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe('INVALID_JSON');
  });

  it('applies maxBodyBytes to the decoded body', async () => {
    const text = body();
    const handler = createLambdaHandler({ keyStore, onEvent() {}, maxBodyBytes: Buffer.byteLength(text) });
    const event = httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: text, base64: true });
    // The base64 text is a third longer than the cap, the decoded body fits it exactly.
    expect(event.body!.length).toBeGreaterThan(Buffer.byteLength(text));
    expect((await handler(event)).statusCode).toBe(200);
  });

  it('answers 500 HANDLER_FAILED and tells onError when a custom aad function throws', async () => {
    const onError = vi.fn();
    const onEvent = vi.fn();
    const handler = createLambdaHandler({ keyStore, onEvent, onError, aad: () => { throw new Error('bug'); } });
    const event = httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    const result = await handler(event);
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body).error.code).toBe('HANDLER_FAILED');
    expect(onEvent).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'HANDLER_FAILED' }), event);
  });

  it.each([
    ['no onEvent', { keyStore }, /onEvent is required/],
    ['readTimeoutMs (the body arrives whole)', { keyStore, onEvent() {}, readTimeoutMs: 1000 }, /unknown option "readTimeoutMs"/],
    ['no keyStore', { onEvent() {} }, /keyStore/],
  ])('throws a TypeError at creation for %s', (_name, options, message) => {
    expect(() => createLambdaHandler(options as never)).toThrowError(message);
  });

  it('a handler made at module scope keeps its key cache across warm invocations: one store call for many events', async () => {
    let storeCalls = 0;
    const countingStore = {
      getSecret(keyId: string) {
        storeCalls++;
        return keyStore.getSecret(keyId);
      },
    };
    // As in a Lambda module: created once per container, invoked once per event.
    const handler = createLambdaHandler({ keyStore: countingStore, onEvent() {} });
    const invocations = [httpApiEvent, restApiEvent, functionUrlEvent, httpApiEvent, restApiEvent];
    for (const makeEvent of invocations) {
      const result = await handler(makeEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: body() }));
      expect(result.statusCode).toBe(200);
    }
    expect(storeCalls).toBe(1);
  });

  it('caps handlerTimeoutMs by the invocation: remaining time minus invocationMarginMs', async () => {
    const codes: string[] = [];
    const handler = createLambdaHandler({
      keyStore,
      handlerTimeoutMs: 60_000,
      onError: (error) => codes.push(error.code),
      onEvent: () => new Promise(() => {}),
    });
    const event = httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    // 1100 ms left and the default 1000 ms margin: the handler gets 100 ms, not the configured 60 s.
    const result = await handler(event, { getRemainingTimeInMillis: () => 1100 });
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'HANDLER_TIMEOUT' } });
    expect(codes).toEqual(['HANDLER_TIMEOUT']);
  });

  it('keeps handlerTimeoutMs when the invocation has more time, and checks invocationMarginMs', async () => {
    const handler = createLambdaHandler({ keyStore, handlerTimeoutMs: 5000, invocationMarginMs: 0, onEvent: () => new Promise((resolve) => setTimeout(resolve, 20)) });
    const event = httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    expect((await handler(event, { getRemainingTimeInMillis: () => 900_000 })).statusCode).toBe(200);
    expect(() => createLambdaHandler({ keyStore, onEvent() {}, invocationMarginMs: 1.5 })).toThrow(/invocationMarginMs/);
  });
});
