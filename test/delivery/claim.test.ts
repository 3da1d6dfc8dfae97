import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  kompliantWebhook,
  memoryIdempotencyStore,
  memoryKeyStore,
  type IdempotencyStore,
} from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET, createTestApp } from '../support/app.js';

const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });
const keyStore = () => memoryKeyStore({ [KEY_ID]: SECRET });

/** A promise with its resolve/reject exposed, to hold a handler open. */
function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('memoryIdempotencyStore', () => {
  it('claims once, reports in_progress, then done after complete', async () => {
    const store = memoryIdempotencyStore();
    expect(await store.claim('a', 't1', 1000)).toBe('claimed');
    expect(await store.claim('a', 't2', 1000)).toBe('in_progress');
    await store.complete('a', 't1', 1000);
    expect(await store.claim('a', 't3', 1000)).toBe('done');
  });

  it('release frees the id; another token can neither release nor complete it; the claim never lapses in-process', async () => {
    let now = 0;
    const store = memoryIdempotencyStore({ now: () => now });
    expect(await store.claim('a', 't1', 100)).toBe('claimed');
    now = 10_000; // far past the lease: the holder is in this process, so the claim still holds
    expect(await store.claim('a', 't2', 100)).toBe('in_progress');
    await store.release('a', 't2');
    await store.complete('a', 't2', 1000);
    expect(await store.claim('a', 't3', 100)).toBe('in_progress');
    await store.release('a', 't1');
    expect(await store.claim('a', 't3', 100)).toBe('claimed');
  });

  it('forgets done ids after their ttl', async () => {
    let now = 0;
    const store = memoryIdempotencyStore({ now: () => now });
    await store.claim('a', 't1', 100);
    await store.complete('a', 't1', 500);
    now = 499;
    expect(await store.claim('a', 't2', 100)).toBe('done');
    now = 500;
    expect(await store.claim('a', 't2', 100)).toBe('claimed');
  });

  it('stays bounded by max, dropping the oldest entries', async () => {
    const store = memoryIdempotencyStore({ max: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      await store.claim(id, 't', 10_000);
      await store.complete(id, 't', 10_000);
    }
    expect(await store.claim('e', 'x', 10)).toBe('done');
    expect(await store.claim('d', 'x', 10)).toBe('done');
    expect(await store.claim('a', 'x', 10)).toBe('claimed');
  });

  it('when full, expired entries go before the oldest live one, sweep after sweep', async () => {
    let now = 0;
    const store = memoryIdempotencyStore({ max: 3, now: () => now });
    const put = async (id: string, ttlMs: number): Promise<void> => {
      expect(await store.claim(id, 't', 10)).toBe('claimed');
      await store.complete(id, 't', ttlMs);
    };
    await put('a', 10_000);
    await put('b', 100);
    await put('c', 10_000);
    now = 100; // b expired: it makes room, the older a stays
    await put('d', 300);
    expect(await store.claim('a', 'x', 10)).toBe('done');
    expect(await store.claim('c', 'x', 10)).toBe('done');
    now = 299; // full, nothing expired: the oldest (a) goes
    await put('e', 10_000);
    expect(await store.claim('d', 'x', 10)).toBe('done');
    now = 400; // d (done at 100, ttl 300) expired after the earlier sweeps: this one still finds it
    await put('f', 10_000);
    expect(await store.claim('c', 'x', 10)).toBe('done');
    expect(await store.claim('e', 'x', 10)).toBe('done');
    expect(await store.claim('f', 'x', 10)).toBe('done');
    now = 10_000; // c's ttl (set at 0) has passed: it is gone, e and f remain
    expect(await store.claim('c', 'x', 10)).toBe('claimed');
  });

  it.each([0, -1, 1.5, '10'])('rejects max %j', (max) => {
    expect(() => memoryIdempotencyStore({ max: max as number })).toThrow(/max/);
  });
});

describe('deduplication through the middleware (onEvent mode)', () => {
  it('a second delivery of a handled id answers 200 duplicate without calling the handler', async () => {
    const { app, onEvent } = createTestApp();
    const sent = envelope();
    await request(app).post(PATH).send(sent).expect(200, { received: true });
    const retry = await request(app).post(PATH).send({ ...sent, retry_count: 1 });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ received: true, duplicate: true });
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('a failed handler releases the claim: 500 HANDLER_FAILED, then the retry runs it again', async () => {
    const onEvent = vi.fn().mockRejectedValueOnce(new Error('db down')).mockResolvedValueOnce(undefined);
    const { app } = createTestApp({ onEvent });
    const sent = envelope();
    const first = await request(app).post(PATH).send(sent);
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe('HANDLER_FAILED');
    await request(app).post(PATH).send({ ...sent, retry_count: 1 }).expect(200, { received: true });
    await request(app).post(PATH).send({ ...sent, retry_count: 2 }).expect(200, { received: true, duplicate: true });
    expect(onEvent).toHaveBeenCalledTimes(2);
  });

  it('a delivery while the same id is in progress answers 409 DUPLICATE_IN_PROGRESS', async () => {
    const gate = deferred();
    const onEvent = vi.fn(() => gate.promise);
    const { app } = createTestApp({ onEvent });
    const sent = envelope();
    const first = request(app).post(PATH).send(sent).then((r) => r);
    await vi.waitFor(() => expect(onEvent).toHaveBeenCalledTimes(1));
    const second = await request(app).post(PATH).send(sent);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('DUPLICATE_IN_PROGRESS');
    gate.resolve();
    expect((await first).status).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('an id is never claimed before decryption succeeded', async () => {
    const claims: string[] = [];
    const inner = memoryIdempotencyStore();
    const idempotency: IdempotencyStore = { ...inner, claim: (id, token, lease) => (claims.push(id), inner.claim(id, token, lease)) };
    const { app } = createTestApp({ idempotency });
    const sent = envelope();
    await request(app).post(PATH).send({ ...sent, account_id: 'lv_forged' }).expect(401);
    await request(app).post(PATH).send({ ...sent, key_id: 'whk_20000101_01' }).expect(401);
    expect(claims).toEqual([]);
    await request(app).post(PATH).send(sent).expect(200);
    expect(claims).toEqual([sent.id]);
  });

  it('idempotency: false runs the handler for every delivery', async () => {
    const { app, onEvent } = createTestApp({ idempotency: false });
    const sent = envelope();
    await request(app).post(PATH).send(sent).expect(200, { received: true });
    await request(app).post(PATH).send(sent).expect(200, { received: true });
    expect(onEvent).toHaveBeenCalledTimes(2);
  });

  it('a failing store answers 503 IDEMPOTENCY_STORE_UNAVAILABLE, logged as the store\'s failure, and the handler does not run', async () => {
    const idempotency: IdempotencyStore = {
      claim: () => Promise.reject(new Error('ECONNREFUSED')),
      complete: () => Promise.resolve(),
      release: () => Promise.resolve(),
    };
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const { app, onEvent } = createTestApp({ idempotency });
      const res = await request(app).post(PATH).send(envelope());
      expect(res.status).toBe(503);
      expect(res.body.error).toEqual({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', message: 'Idempotency store unavailable' });
      expect(onEvent).not.toHaveBeenCalled();
      const line = String(error.mock.calls.at(-1)?.[0]);
      expect(line).toMatch(/rejected 503 IDEMPOTENCY_STORE_UNAVAILABLE .*the idempotency store failed.*store said: ECONNREFUSED/);
      expect(line).not.toMatch(/handler threw/);
    } finally {
      error.mockRestore();
    }
  });

  it('a store that answers something other than a ClaimResult is IDEMPOTENCY_STORE_UNAVAILABLE too', async () => {
    const idempotency = { claim: () => Promise.resolve('yes'), complete: () => Promise.resolve(), release: () => Promise.resolve() } as unknown as IdempotencyStore;
    const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency, logger: false });
    const handler = vi.fn();
    await expect(receiver.handle(envelope(), handler)).rejects.toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', status: 503 });
    expect(handler).not.toHaveBeenCalled();
  });

  it.each([null, {}, { claim() {} }, 'memory', true])('rejects idempotency %j at construction', (idempotency) => {
    expect(() => kompliantWebhook({ keyStore: keyStore(), idempotency: idempotency as never })).toThrow(/idempotency/);
  });

  it('rejects a store whose renew is not a function', () => {
    const idempotency = { ...memoryIdempotencyStore(), renew: 5 };
    expect(() => kompliantWebhook({ keyStore: keyStore(), idempotency: idempotency as never })).toThrow(/idempotency\.renew/);
  });
});

describe('handlerTimeoutMs', () => {
  it('answers 503 HANDLER_TIMEOUT, keeps the claim while the handler runs, then marks it done', async () => {
    const gate = deferred();
    const onEvent = vi.fn(() => gate.promise);
    const { app } = createTestApp({ onEvent, handlerTimeoutMs: 30 });
    const sent = envelope();
    const first = await request(app).post(PATH).send(sent);
    expect(first.status).toBe(503);
    expect(first.body.error.code).toBe('HANDLER_TIMEOUT');
    const retry = await request(app).post(PATH).send({ ...sent, retry_count: 1 });
    expect(retry.status).toBe(409);
    gate.resolve();
    await vi.waitFor(async () => {
      const later = await request(app).post(PATH).send({ ...sent, retry_count: 2 });
      expect(later.body).toEqual({ received: true, duplicate: true });
    });
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('a timed-out handler that finally fails releases the claim for the next retry', async () => {
    const gate = deferred();
    const onEvent = vi.fn().mockImplementationOnce(() => gate.promise).mockResolvedValue(undefined);
    const { app } = createTestApp({ onEvent, handlerTimeoutMs: 30 });
    const sent = envelope();
    expect((await request(app).post(PATH).send(sent)).status).toBe(503);
    gate.reject(new Error('late failure'));
    await vi.waitFor(async () => {
      const later = await request(app).post(PATH).send({ ...sent, retry_count: 1 });
      expect(later.body).toEqual({ received: true });
    });
    expect(onEvent).toHaveBeenCalledTimes(2);
  });

  it.each([0, -5, 1.5, 'soon'])('rejects handlerTimeoutMs %j', (handlerTimeoutMs) => {
    expect(() => kompliantWebhook({ keyStore: keyStore(), handlerTimeoutMs: handlerTimeoutMs as number })).toThrow(/handlerTimeoutMs/);
  });
});

describe('pass-through mode: the response settles the claim', () => {
  function passApp(status: () => number) {
    const app = express();
    const seen = vi.fn();
    app.post(PATH, kompliantWebhook({ keyStore: keyStore() }), (req, res) => {
      seen(req.kompliantEvent?.id);
      res.status(status()).json({ ok: true });
    });
    return { app, seen };
  }

  it('a 2xx marks the id done: the retry gets 200 duplicate and never reaches the route', async () => {
    const { app, seen } = passApp(() => 204);
    const sent = envelope();
    await request(app).post(PATH).send(sent).expect(204);
    // The claim is settled on the response's 'finish' event, which may run just after the client read it.
    await vi.waitFor(async () => {
      await request(app).post(PATH).send(sent).expect(200, { received: true, duplicate: true });
    });
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it('a non-2xx releases the id: the retry reaches the route again', async () => {
    const statuses = [500, 200];
    const { app, seen } = passApp(() => statuses.shift() ?? 200);
    const sent = envelope();
    await request(app).post(PATH).send(sent).expect(500);
    await vi.waitFor(async () => {
      await request(app).post(PATH).send(sent).expect(200, { ok: true });
    });
    expect(seen).toHaveBeenCalledTimes(2);
  });
});

describe('maxEventAgeMs', () => {
  it('is off by default: an event from 2020 is handled', async () => {
    const { app } = createTestApp();
    await request(app).post(PATH).send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, timestamp: '2020-01-01T00:00:00Z' })).expect(200);
  });

  it('rejects an authenticated event older than the limit with 400 INVALID_ENVELOPE', async () => {
    const { app, onEvent } = createTestApp({ maxEventAgeMs: 60_000 });
    const old = new Date(Date.now() - 120_000).toISOString();
    const res = await request(app).post(PATH).send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, timestamp: old }));
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'INVALID_ENVELOPE', message: 'Event is older than maxEventAgeMs' });
    expect(onEvent).not.toHaveBeenCalled();
    await request(app).post(PATH).send(envelope()).expect(200);
  });
});

describe('createWebhookReceiver().handle(body, handler)', () => {
  it('runs the handler once per id and reports duplicates', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore() });
    const handler = vi.fn();
    const sent = JSON.stringify(envelope());
    const first = await receiver.handle(sent, handler);
    const second = await receiver.handle(sent, handler);
    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(second.event.id).toBe(first.event.id);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('rejects with HANDLER_FAILED and releases; rejects DUPLICATE_IN_PROGRESS while running', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore() });
    const sent = envelope();
    await expect(receiver.handle(sent, () => { throw new Error('boom'); })).rejects.toMatchObject({ code: 'HANDLER_FAILED', status: 500 });
    const gate = deferred();
    const running = receiver.handle(sent, () => gate.promise);
    await expect(receiver.handle(sent, vi.fn())).rejects.toMatchObject({ code: 'DUPLICATE_IN_PROGRESS', status: 409 });
    gate.resolve();
    await expect(running).resolves.toMatchObject({ duplicate: false });
  });

  it('rejects with HANDLER_TIMEOUT (503) past handlerTimeoutMs', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore(), handlerTimeoutMs: 20 });
    const gate = deferred();
    await expect(receiver.handle(envelope(), () => gate.promise)).rejects.toMatchObject({ code: 'HANDLER_TIMEOUT', status: 503 });
    gate.resolve();
  });

  it('awaits a thenable that is not a native promise like a promise (claim held, timer armed)', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore(), handlerTimeoutMs: 20 });
    const sent = envelope();
    let finish: () => void = () => undefined;
    // oxlint-disable-next-line unicorn/no-thenable -- the point of the test: a thenable that is not a Promise
    const thenable = { then: (resolve: () => void) => void (finish = resolve) };
    await expect(receiver.handle(sent, () => thenable)).rejects.toMatchObject({ code: 'HANDLER_TIMEOUT' });
    await expect(receiver.handle(sent, vi.fn())).rejects.toMatchObject({ code: 'DUPLICATE_IN_PROGRESS' });
    finish();
    await new Promise((resolve) => setTimeout(resolve, 0)); // one turn: the thenable's continuation completes the id
    await expect(receiver.handle(sent, vi.fn())).resolves.toMatchObject({ duplicate: true });
  });

  it('a handler that returns a value without a promise has finished: the id is done at once', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore(), handlerTimeoutMs: 1 });
    const sent = envelope();
    await expect(receiver.handle(sent, () => 42)).resolves.toMatchObject({ duplicate: false });
    await expect(receiver.handle(sent, vi.fn())).resolves.toMatchObject({ duplicate: true });
  });

  it('never calls the handler for an envelope that fails to authenticate', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore() });
    const handler = vi.fn();
    await expect(receiver.handle({ ...envelope(), event_type: 'FORGED' }, handler)).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('idempotencyTimeoutMs: every store call has a deadline', () => {
  const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
  const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

  it('a claim that never answers is 503 IDEMPOTENCY_STORE_UNAVAILABLE at the deadline, before the handler runs', async () => {
    vi.useFakeTimers();
    try {
      const idempotency: IdempotencyStore = { claim: never, complete: never, release: never };
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency, idempotencyTimeoutMs: 2000 });
      const handler = vi.fn();
      const outcome = receiver.handle(envelope(), handler).then(() => 'answered', (error: unknown) => error);
      await vi.advanceTimersByTimeAsync(1999);
      let settled = false;
      void outcome.then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(await outcome).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', status: 503, message: 'Idempotency store unavailable' });
      expect(handler).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('defaults to 2000 ms', async () => {
    vi.useFakeTimers();
    try {
      const idempotency: IdempotencyStore = { claim: never, complete: never, release: never };
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency });
      const outcome = receiver.handle(envelope(), vi.fn()).then(() => 'answered', (error: unknown) => error);
      await vi.advanceTimersByTimeAsync(2000);
      expect(await outcome).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('a claim answered after its deadline is released, so the retry need not wait out the lease', async () => {
    vi.useFakeTimers();
    try {
      const inner = memoryIdempotencyStore();
      let slow = true;
      const idempotency: IdempotencyStore = {
        ...inner,
        claim: (id, token, lease) => (slow ? new Promise((r) => setTimeout(r, 5000)).then(() => inner.claim(id, token, lease)) : inner.claim(id, token, lease)),
      };
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency });
      const sent = envelope();
      const first = receiver.handle(sent, vi.fn()).catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(2000);
      expect(await first).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
      await vi.advanceTimersByTimeAsync(3000); // the late claim lands, then is released
      slow = false;
      const handler = vi.fn();
      await expect(receiver.handle(sent, handler)).resolves.toMatchObject({ duplicate: false });
      expect(handler).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a completion that never answers after the handler succeeded is still handled (200), with a warn line', async () => {
    vi.useFakeTimers();
    try {
      const inner = memoryIdempotencyStore();
      const log = logger();
      const idempotency: IdempotencyStore = { ...inner, complete: never };
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency, logger: log, handlerTimeoutMs: 1000 });
      const sent = envelope();
      const outcome = receiver.handle(sent, () => Promise.resolve()).then((r) => r.duplicate, (error: unknown) => error);
      await vi.advanceTimersByTimeAsync(2000);
      expect(await outcome).toBe(false);
      expect(log.warn).toHaveBeenCalledWith(
        expect.objectContaining({ id: sent.id, outcome: 'handled' }),
        expect.stringMatching(/did not record it done/),
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('through HTTP: a completion that fails after success answers 200', async () => {
    const inner = memoryIdempotencyStore();
    const idempotency: IdempotencyStore = { ...inner, complete: () => Promise.reject(new Error('READONLY')) };
    const log = logger();
    const { app, onEvent } = createTestApp({ idempotency, logger: log });
    await request(app).post(PATH).send(envelope()).expect(200, { received: true });
    expect(onEvent).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it.each([0, -1, 1.5, '2s'])('rejects idempotencyTimeoutMs %j', (idempotencyTimeoutMs) => {
    expect(() => kompliantWebhook({ keyStore: keyStore(), idempotencyTimeoutMs: idempotencyTimeoutMs as number })).toThrow(/idempotencyTimeoutMs/);
  });
});

describe('renewal: a shared store\'s claim is renewed while the handler runs', () => {
  it('renews every third of the lease until the handler settles, then stops', async () => {
    vi.useFakeTimers();
    try {
      const inner = memoryIdempotencyStore();
      const renew = vi.fn(() => Promise.resolve(true));
      const idempotency: IdempotencyStore = { ...inner, renew };
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency, idempotencyLeaseMs: 300, handlerTimeoutMs: 60_000 });
      const gate = deferred();
      const running = receiver.handle(envelope(), () => gate.promise);
      await vi.advanceTimersByTimeAsync(1000);
      expect(renew).toHaveBeenCalledTimes(10);
      expect(renew).toHaveBeenLastCalledWith(expect.any(String), expect.any(String), 300);
      gate.resolve();
      await expect(running).resolves.toMatchObject({ duplicate: false });
      await vi.advanceTimersByTimeAsync(1000);
      expect(renew).toHaveBeenCalledTimes(10);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps renewing after a timed-out answer, while the handler really runs; a failed renewal is tried again', async () => {
    vi.useFakeTimers();
    try {
      const inner = memoryIdempotencyStore();
      const renew = vi.fn().mockRejectedValueOnce(new Error('blip')).mockResolvedValue(true);
      const idempotency: IdempotencyStore = { ...inner, renew };
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotency, idempotencyLeaseMs: 300, handlerTimeoutMs: 100 });
      const gate = deferred();
      const running = receiver.handle(envelope(), () => gate.promise).catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(100);
      expect(await running).toMatchObject({ code: 'HANDLER_TIMEOUT' });
      await vi.advanceTimersByTimeAsync(900);
      expect(renew).toHaveBeenCalledTimes(10);
      gate.resolve();
      await vi.advanceTimersByTimeAsync(1000);
      expect(renew).toHaveBeenCalledTimes(10);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a store without renew (the memory store) arms no renewal timer', async () => {
    vi.useFakeTimers();
    try {
      const receiver = createWebhookReceiver({ keyStore: keyStore(), idempotencyLeaseMs: 300, handlerTimeoutMs: 60_000 });
      const gate = deferred();
      const running = receiver.handle(envelope(), () => gate.promise);
      await vi.advanceTimersByTimeAsync(10);
      expect(vi.getTimerCount()).toBe(2); // the handler timeout and the delivery's end (deliveryTimeoutMs)
      await vi.advanceTimersByTimeAsync(1000);
      expect(vi.getTimerCount()).toBe(2); // nothing renewed
      gate.resolve();
      await running;
    } finally {
      vi.useRealTimers();
    }
  });
});
