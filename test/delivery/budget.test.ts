// deliveryTimeoutMs: one deadline from the first byte to the answer, shared by key lookup, claim, schema and handler; claims that lapse after it.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, kompliantWebhook, memoryIdempotencyStore, memoryKeyStore, type IdempotencyStore, type KeyStore } from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { kompliantPreHandler } from '../../src/fastify.js';
import { createLambdaHandler, createSqsBatchHandler } from '../../src/lambda.js';
import { createTestWebhook } from '../../src/testing.js';
import type { StandardSchemaV1 } from '../../src/wire/standard-schema.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';
import { httpApiEvent, sqsEvent, sqsRecord } from '../support/lambda-events.js';

const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
const URL = 'http://localhost/webhooks/kompliant';

const post = (body: object = sent): Request =>
  new Request(URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Resolves after `ms` of the (fake) clock. */
const after = <T>(ms: number, value?: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value as T), ms));

/** A schema for the test event's type that answers (valid) after `ms`. */
const slowSchemas = (ms: number): Record<string, StandardSchemaV1> => ({
  [sent.event_type]: { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => after(ms, { value }) } },
});

/** A key store whose lookups answer after `ms`. */
const slowKeyStore = (ms: number): KeyStore => ({ getSecret: () => after(ms, SECRET) });

/** Runs `start` on the fake clock in 10 ms steps; gives its value and when it settled. */
async function timed<T>(start: () => Promise<T>, maxMs = 10_000): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const state = { settled: false };
  const running = start().finally(() => (state.settled = true));
  while (!state.settled && Date.now() - t0 < maxMs) await vi.advanceTimersByTimeAsync(10);
  if (!state.settled) throw new Error(`no answer within ${maxMs} ms`);
  return { value: await running, ms: Date.now() - t0 };
}

/** Status and code of a Fetch answer, and when it came. */
async function answer(handler: (request: Request) => Promise<Response>, body: object = sent) {
  const { value, ms } = await timed(() => handler(post(body)));
  const json = (await value.json()) as { error?: { code?: string } };
  return { status: value.status, code: json.error?.code, ms };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('deliveryTimeoutMs: one deadline for the whole delivery', () => {
  it('a slow schema and a slow handler answer 503 HANDLER_TIMEOUT within the budget (each fits its own cap, not both)', async () => {
    // 20 s schema + 15 s handler against 25 s, scaled down: 200 + 150 ms against 300 ms.
    const onEvent = vi.fn(() => after(150));
    const handler = createFetchHandler({ keyStore, schemas: slowSchemas(200), deliveryTimeoutMs: 300, onEvent });
    const got = await answer(handler);
    expect(got).toMatchObject({ status: 503, code: 'HANDLER_TIMEOUT' });
    expect(got.ms).toBeLessThanOrEqual(300);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('within the budget, the same delivery answers 200', async () => {
    const handler = createFetchHandler({ keyStore, schemas: slowSchemas(200), deliveryTimeoutMs: 400, onEvent: () => after(150) });
    expect(await answer(handler)).toMatchObject({ status: 200, ms: 350 });
  });

  it('a slow key store eats into the handler time', async () => {
    const handler = createFetchHandler({ keyStore: slowKeyStore(200), deliveryTimeoutMs: 300, onEvent: () => after(150) });
    const got = await answer(handler);
    expect(got).toMatchObject({ status: 503, code: 'HANDLER_TIMEOUT' });
    expect(got.ms).toBeLessThanOrEqual(300);
  });

  it('a key lookup cut off by the budget answers its own code, 503 KEY_STORE_UNAVAILABLE', async () => {
    const handler = createFetchHandler({ keyStore: slowKeyStore(1000), keyStoreTimeoutMs: 5000, deliveryTimeoutMs: 300, onEvent: vi.fn() });
    const got = await answer(handler);
    expect(got).toMatchObject({ status: 503, code: 'KEY_STORE_UNAVAILABLE' });
    expect(got.ms).toBeLessThanOrEqual(300);
  });

  it('a claim cut off by the budget answers its own code, 503 IDEMPOTENCY_STORE_UNAVAILABLE', async () => {
    const never = () => new Promise<never>(() => undefined);
    const idempotency: IdempotencyStore = { claim: never, complete: never, release: never };
    const onEvent = vi.fn();
    const handler = createFetchHandler({ keyStore: slowKeyStore(250), idempotency, idempotencyTimeoutMs: 2000, deliveryTimeoutMs: 300, onEvent });
    const got = await answer(handler);
    expect(got).toMatchObject({ status: 503, code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
    expect(got.ms).toBeLessThanOrEqual(300);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('on Lambda, the invocation time left (minus the margin) caps it: a slow schema is answered before the invocation ends', async () => {
    // 3 s left and a 5 s schema, scaled down: 300 ms left, 100 ms margin, a 500 ms schema.
    const handler = createLambdaHandler({ keyStore, schemas: slowSchemas(500), invocationMarginMs: 100, onEvent: vi.fn() });
    const ends = Date.now() + 300;
    const context = { getRemainingTimeInMillis: () => ends - Date.now() };
    const request = httpApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent) });
    const { value, ms } = await timed(() => handler(request, context));
    expect(value.statusCode).toBe(503);
    expect(JSON.parse(value.body)).toMatchObject({ error: { code: 'HANDLER_TIMEOUT' } });
    expect(ms).toBeLessThanOrEqual(200);
  });

  it('on SQS, the invocation time left caps it: the record comes back for retry before the invocation ends', async () => {
    const handler = createSqsBatchHandler({ keyStore, schemas: slowSchemas(500), invocationMarginMs: 100, onEvent: vi.fn() });
    const ends = Date.now() + 300;
    const context = { getRemainingTimeInMillis: () => ends - Date.now() };
    const record = sqsRecord(JSON.stringify(sent));
    const { value, ms } = await timed(() => handler(sqsEvent([record]), context));
    expect(value.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(ms).toBeLessThanOrEqual(200);
  });

  it('30 s or more is refused at start-up by every direct HTTP receiver; the receiver and the SQS handler may allow more', () => {
    const onEvent = vi.fn();
    const options = { keyStore, onEvent, deliveryTimeoutMs: 30_000 };
    expect(() => kompliantWebhook(options)).toThrow(/kompliantWebhook: deliveryTimeoutMs must be less than 30000/);
    expect(() => createFetchHandler(options)).toThrow(TypeError);
    expect(() => kompliantPreHandler(options)).toThrow(TypeError);
    expect(() => createLambdaHandler(options)).toThrow(TypeError);
    expect(() => createFetchHandler({ ...options, deliveryTimeoutMs: 29_999 })).not.toThrow();
    expect(() => createWebhookReceiver({ keyStore, deliveryTimeoutMs: 60_000 })).not.toThrow();
    expect(() => createSqsBatchHandler({ ...options, deliveryTimeoutMs: 60_000 })).not.toThrow();
    expect(() => createWebhookReceiver({ keyStore, deliveryTimeoutMs: 0 })).toThrow(/deliveryTimeoutMs/);
  });

  it('createWebhookReceiver: a caller deadline (handle options) caps the schema check too', async () => {
    const receiver = createWebhookReceiver({ keyStore, schemas: slowSchemas(500) });
    const { value, ms } = await timed(() => receiver.handle(sent, vi.fn(), { handlerTimeoutMs: 200 }).catch((error: unknown) => error));
    expect(value).toMatchObject({ code: 'HANDLER_TIMEOUT' });
    expect(ms).toBeLessThanOrEqual(200);
  });
});

describe('claims that outlive their delivery', () => {
  it('a claim that missed its deadline but was applied, its answer lost, is released: the retry right after gets 200, not 409', async () => {
    const inner = memoryIdempotencyStore();
    let slow = true;
    const idempotency: IdempotencyStore = {
      ...inner,
      // The first claim reaches the store after 100 ms and is applied there, but its answer is lost.
      claim: (id, token, lease) =>
        slow
          ? after(100).then(async () => {
              await inner.claim(id, token, lease);
              throw new Error('connection reset');
            })
          : inner.claim(id, token, lease),
    };
    const onEvent = vi.fn();
    const handler = createFetchHandler({ keyStore, idempotency, idempotencyTimeoutMs: 50, onEvent });
    expect(await answer(handler)).toMatchObject({ status: 503, code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
    await vi.advanceTimersByTimeAsync(100); // the store answers (it failed, after applying the claim)
    slow = false;
    expect(await answer(handler)).toMatchObject({ status: 200 });
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('a handler that never settles holds its id only for the budget plus one lease: a later retry runs it (memory store)', async () => {
    const onEvent = vi.fn().mockImplementationOnce(() => new Promise(() => undefined));
    const handler = createFetchHandler({ keyStore, idempotencyLeaseMs: 1000, deliveryTimeoutMs: 300, onEvent });
    expect(await answer(handler)).toMatchObject({ status: 503, code: 'HANDLER_TIMEOUT', ms: 300 });
    expect(await answer(handler)).toMatchObject({ status: 409, code: 'DUPLICATE_IN_PROGRESS' });
    await vi.advanceTimersByTimeAsync(1000); // past the budget (300 ms) plus the lease (1000 ms)
    expect(await answer(handler)).toMatchObject({ status: 200 });
    expect(onEvent).toHaveBeenCalledTimes(2);
  });

  it('a shared store is renewed only until the budget ends, then its lease lapses and a retry runs the event', async () => {
    // A leasing store: a claim is held until its lease ends unless renewed.
    const held = new Map<string, { token: string; until: number }>();
    const done = new Set<string>();
    let renewals = 0;
    const idempotency: IdempotencyStore = {
      async claim(id, token, leaseMs) {
        if (done.has(id)) return 'done';
        const claim = held.get(id);
        if (claim !== undefined && claim.until > Date.now()) return 'in_progress';
        held.set(id, { token, until: Date.now() + leaseMs });
        return 'claimed';
      },
      async renew(id, token, leaseMs) {
        const claim = held.get(id);
        if (claim?.token !== token) return false;
        renewals++;
        claim.until = Date.now() + leaseMs;
        return true;
      },
      async complete(id, token) {
        if (held.get(id)?.token === token) done.add(id);
      },
      async release(id, token) {
        if (held.get(id)?.token === token) held.delete(id);
      },
    };
    const onEvent = vi.fn().mockImplementationOnce(() => new Promise(() => undefined));
    const handler = createFetchHandler({ keyStore, idempotency, idempotencyLeaseMs: 300, deliveryTimeoutMs: 1000, handlerTimeoutMs: 500, onEvent });
    expect(await answer(handler)).toMatchObject({ status: 503, code: 'HANDLER_TIMEOUT', ms: 500 });
    await vi.advanceTimersByTimeAsync(400); // t = 900: still within the budget, renewed
    expect(await answer(handler)).toMatchObject({ status: 409 });
    const renewedInBudget = renewals;
    expect(renewedInBudget).toBeGreaterThanOrEqual(8);
    await vi.advanceTimersByTimeAsync(500); // t = 1400: past the budget plus the lease
    expect(renewals).toBe(renewedInBudget);
    expect(await answer(handler)).toMatchObject({ status: 200 });
    expect(onEvent).toHaveBeenCalledTimes(2);
  });
});

describe('pass-through: a route that never answers', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('holds the id for the budget plus one lease; then a retry reaches the route', async () => {
    vi.useRealTimers();
    const reached: number[] = [];
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore, deliveryTimeoutMs: 100, idempotencyLeaseMs: 200 }), (_req, res) => {
      reached.push(Date.now());
      if (reached.length > 1) res.json({ ok: true }); // the first one hangs, its connection open
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
    const send = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent) });
    const firstSentAt = Date.now(); // the budget and the lease start once the request arrives: after this, before the route
    void send().catch(() => undefined);
    await vi.waitFor(() => expect(reached).toHaveLength(1));
    const statuses: number[] = [];
    await vi.waitFor(
      async () => {
        const response = await send();
        statuses.push(response.status);
        expect(response.status).toBe(200);
      },
      { timeout: 3000, interval: 25 },
    );
    expect(statuses[0]).toBe(409);
    expect(reached).toHaveLength(2);
    expect(reached[1]! - firstSentAt).toBeGreaterThanOrEqual(300); // 100 ms budget + 200 ms lease
  });
});
