import { describe, expect, it, vi } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const secret = generateSharedSecret();
const keyStore = memoryKeyStore({ whk_20251121_01: secret });
const WEBHOOK_URL = 'http://localhost/webhooks/kompliant';

/** A body stream that counts what was pulled and whether it was cancelled. */
function countingStream(chunks: Uint8Array[], endAfter = true) {
  const seen = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.pulls++;
      const chunk = chunks.shift();
      if (chunk !== undefined) controller.enqueue(chunk);
      else if (endAfter) controller.close();
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

function post(body: ReadableStream<Uint8Array> | string, headers: Record<string, string> = {}): Request {
  return new Request(WEBHOOK_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    // Required by undici for a stream body.
    duplex: 'half',
  } as RequestInit);
}

describe('createFetchHandler', () => {
  it('answers 200 and hands onEvent the event and the Request', async () => {
    const onEvent = vi.fn();
    const handler = createFetchHandler({ keyStore, onEvent });
    const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
    const request = post(JSON.stringify(envelope));
    const res = await handler(request);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ received: true });
    expect(onEvent).toHaveBeenCalledWith(expect.objectContaining({ id: envelope.id }), request);
  });

  it('reads a chunked stream body with no Content-Length', async () => {
    const text = JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' }));
    const bytes = new TextEncoder().encode(text);
    const { stream } = countingStream([bytes.subarray(0, 10), bytes.subarray(10, 200), bytes.subarray(200)]);
    const res = await createFetchHandler({ keyStore, onEvent() {} })(post(stream));
    expect(res.status).toBe(200);
  });

  it('refuses a declared Content-Length over the cap before reading a byte', async () => {
    const { stream, seen } = countingStream([new Uint8Array(10)]);
    const handler = createFetchHandler({ keyStore, onEvent() {}, maxBodyBytes: 100 });
    const res = await handler(post(stream, { 'content-length': '101' }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(seen.cancelled).toBe(true);
  });

  it('stops reading and cancels the stream once the cap is passed', async () => {
    const chunks = Array.from({ length: 50 }, () => new Uint8Array(64).fill(32));
    const { stream, seen } = countingStream(chunks);
    const res = await createFetchHandler({ keyStore, onEvent() {}, maxBodyBytes: 200 })(post(stream));
    expect(res.status).toBe(413);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulls).toBeLessThan(10);
  });

  it('answers 408 when the body never finishes within readTimeoutMs', async () => {
    const { stream, seen } = countingStream([new TextEncoder().encode('{"id":')], false);
    const onError = vi.fn();
    const res = await createFetchHandler({ keyStore, onEvent() {}, onError, readTimeoutMs: 50 })(post(stream));
    expect(res.status).toBe(408);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('REQUEST_TIMEOUT');
    expect(res.headers.get('connection')).toBeNull();
    expect(seen.cancelled).toBe(true);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'REQUEST_TIMEOUT' }), expect.any(Request));
  });

  it('reads the framing headers only when the Content-Type is not JSON: 415 for a text body, 400 for none', async () => {
    const handler = createFetchHandler({ keyStore, onEvent() {}, logger: false });
    const get = vi.spyOn(Headers.prototype, 'get');
    const ok = await handler(post(JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' }))));
    expect(ok.status).toBe(200);
    expect(get.mock.calls.map(([name]) => name.toLowerCase())).not.toContain('transfer-encoding');
    get.mockClear();
    const text = await handler(post('hello', { 'content-type': 'text/plain' }));
    expect(text.status).toBe(415);
    expect(get.mock.calls.map(([name]) => name.toLowerCase())).toContain('transfer-encoding');
    get.mockRestore();
    const empty = await handler(new Request(WEBHOOK_URL, { method: 'POST', headers: { 'content-type': 'text/plain' } }));
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe('INVALID_JSON');
  });

  it('leaves a body it read in the state request.text() leaves one: used and locked', async () => {
    const handler = createFetchHandler({ keyStore, onEvent() {} });
    const request = post(JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' })));
    expect((await handler(request)).status).toBe(200);
    const reference = post('{}');
    await reference.text();
    expect([request.bodyUsed, request.body?.locked]).toEqual([reference.bodyUsed, reference.body?.locked]);
    expect(request.bodyUsed).toBe(true);
  });

  it('calls getClientIp with the Request', async () => {
    const getClientIp = vi.fn(() => '203.0.113.7');
    const handler = createFetchHandler({ keyStore, onEvent() {}, getClientIp });
    const request = post(JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' })));
    await handler(request);
    expect(getClientIp).toHaveBeenCalledWith(request);
  });

  it('answers 500 HANDLER_FAILED, not a pass, when getClientIp throws', async () => {
    const onEvent = vi.fn();
    const onError = vi.fn();
    const handler = createFetchHandler({ keyStore, onEvent, onError, getClientIp: () => { throw new Error('boom'); } });
    const res = await handler(post(JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' }))));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HANDLER_FAILED');
    expect(onEvent).not.toHaveBeenCalled();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'HANDLER_FAILED' }), expect.any(Request));
  });

  it.each([
    ['no onEvent', { keyStore }, /onEvent is required/],
    ['an unknown option', { keyStore, onEvent() {}, onEvnt() {} }, /unknown option "onEvnt"/],
    ['a non-function getClientIp', { keyStore, onEvent() {}, getClientIp: 'x-forwarded-for' }, /getClientIp must be a function/],
    ['a bad readTimeoutMs', { keyStore, onEvent() {}, readTimeoutMs: 0 }, /readTimeoutMs/],
  ])('throws a TypeError at creation for %s', (_name, options, message) => {
    expect(() => createFetchHandler(options as never)).toThrowError(TypeError);
    expect(() => createFetchHandler(options as never)).toThrowError(message);
  });
});
