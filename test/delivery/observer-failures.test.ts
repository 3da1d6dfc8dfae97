// A logger, stats sink or onError hook that throws or rejects never changes an answer or ends the process: caught, counted, logged once (issue 28, item 5).
import diagnosticsChannel from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import express from 'express';
import request from 'supertest';
import type { SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  createWebhookStats,
  DELIVERY_CHANNEL_NAME,
  isWebhookError,
  kompliantWebhook,
  memoryKeyStore,
  type KompliantEvent,
  type KompliantWebhookOptions,
  type WebhookLogger,
  type WebhookStats,
  type WebhookStatsSink,
} from '../../src/index.js';
import { createSqsBatchHandler } from '../../src/lambda.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { sqsEvent, sqsRecord } from '../support/lambda-events.js';
import { collectingLogger, type LoggedLine } from '../support/logger.js';

const KEY_ID = 'whk_20251121_01';
const SECRET = generateSharedSecret();
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
const PATH = '/webhooks/kompliant';

let crashes: { kind: string; error: unknown }[];
let stderr: string[];
const onUncaught = (error: unknown) => void crashes.push({ kind: 'uncaughtException', error });
const onUnhandled = (error: unknown) => void crashes.push({ kind: 'unhandledRejection', error });

beforeEach(() => {
  crashes = [];
  stderr = [];
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void stderr.push(args.map(String).join(' ')));
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void stderr.push(args.map(String).join(' ')));
});
afterEach(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  vi.restoreAllMocks();
});

const throwing = (what: string) => () => {
  throw new Error(`${what} exploded`);
};
const rejecting = (what: string) => () => Promise.reject(new Error(`${what} rejected`));

function loggerOf(method: () => unknown): WebhookLogger {
  return { debug: method, info: method, warn: method, error: method } as unknown as WebhookLogger;
}

/**
 * Lets promise rejections nobody handled surface as `unhandledRejection`. A short sleep on
 * purpose: it proves a crash does NOT happen, and there is no event to wait for when nothing
 * goes wrong.
 */
const settled = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

/** Sends a good envelope, a forged one, one whose handler throws and the good one again; checks each answer. */
async function deliverAll(options: Partial<KompliantWebhookOptions>): Promise<string[]> {
  const handled: string[] = [];
  const app = express();
  app.post(
    PATH,
    kompliantWebhook({
      keyStore,
      onEvent(event: KompliantEvent) {
        if ((event.data as { fail?: boolean }).fail === true) throw new Error('database down');
        handled.push(event.id);
      },
      ...options,
    }),
  );
  const send = (body: object) => request(app).post(PATH).set('content-type', 'application/json').send(JSON.stringify(body));
  const good = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
  await send(good).expect(200);
  const forged = await send(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID })).expect(401);
  expect(forged.body.error.code).toBe('DECRYPTION_FAILED');
  const failing = await send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { version: '1.0', fail: true } as never })).expect(500);
  expect(failing.body.error.code).toBe('HANDLER_FAILED');
  await send(good).expect(200);
  await settled();
  expect(handled).toEqual([good.id]);
  expect(crashes).toEqual([]);
  return handled;
}

describe('observers that throw or reject: the answer is unchanged, the process lives, each failure is counted and the first of each kind logged once', () => {
  it('a logger whose every method throws: counted in stats, one line on stderr', async () => {
    const stats = createWebhookStats();
    await deliverAll({ logger: loggerOf(throwing('logger')), stats });
    // One info line per delivery that ended well (2), one warn/error per failure (2).
    expect(stats.snapshot().observerErrors).toBe(4);
    const lines = stderr.filter((line) => line.includes('the logger threw'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('logger exploded');
  });

  it('a logger whose methods return rejected promises (an async logger)', async () => {
    const stats = createWebhookStats();
    await deliverAll({ logger: loggerOf(rejecting('logger')), stats });
    expect(stats.snapshot().observerErrors).toBe(4);
    expect(stderr.filter((line) => line.includes('the logger threw'))).toHaveLength(1);
  });

  it('a stats sink that throws, or rejects: logged once through the logger', async () => {
    for (const increment of [throwing('stats'), rejecting('stats')]) {
      const lines: LoggedLine[] = [];
      await deliverAll({ stats: { increment } as WebhookStatsSink, logger: collectingLogger(lines) });
      const reports = lines.filter((line) => line.message.includes('the stats threw'));
      expect(reports).toHaveLength(1);
      expect(reports[0]?.level).toBe('error');
    }
  });

  it('an onError hook that throws, or rejects: counted in stats and logged once through the logger', async () => {
    for (const onError of [throwing('onError'), rejecting('onError')]) {
      const stats = createWebhookStats();
      const lines: LoggedLine[] = [];
      await deliverAll({ onError, stats, logger: collectingLogger(lines) });
      expect(stats.snapshot().observerErrors).toBe(2);
      expect(lines.filter((line) => line.message.includes('the onError threw'))).toHaveLength(1);
    }
  });

  it('with the default logger, a failing onError is reported once on stderr', async () => {
    await deliverAll({ onError: throwing('onError') });
    expect(stderr.filter((line) => line.includes('the onError threw'))).toHaveLength(1);
  });

  it('createWebhookReceiver().handle: the same guards', async () => {
    const stats: WebhookStats = createWebhookStats();
    const receiver = createWebhookReceiver({ keyStore, stats, logger: loggerOf(rejecting('logger')), onError: rejecting('onError') });
    const good = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await expect(receiver.handle(good, () => undefined)).resolves.toMatchObject({ duplicate: false });
    const forged = await receiver.handle(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID }), () => undefined).catch((e: unknown) => e);
    expect(isWebhookError(forged) && forged.code).toBe('DECRYPTION_FAILED');
    await settled();
    expect(crashes).toEqual([]);
    // The logger's info and warn lines, onError, and the logger again on the line reporting onError.
    expect(stats.snapshot().observerErrors).toBe(4);
  });

  it('a tracer store bound to the delivery channel whose run() throws, before or after running the delivery', async () => {
    const channel = diagnosticsChannel.tracingChannel(DELIVERY_CHANNEL_NAME);
    const stores = [
      { run: throwing('store.run') },
      {
        run: (_value: unknown, fn: (...args: unknown[]) => unknown, ...args: unknown[]) => {
          fn(...args);
          throw new Error('store.run exploded on the way out');
        },
      },
    ];
    for (const store of stores) {
      const bound = store as unknown as AsyncLocalStorage<unknown>;
      channel.start.bindStore(bound, () => ({}));
      try {
        const stats = createWebhookStats();
        await deliverAll({ stats, logger: false });
        // Each request ran through the receiver once.
        expect(stats.snapshot()).toMatchObject({ received: 4, handled: 1, duplicate: 1 });
      } finally {
        channel.start.unbindStore(bound);
      }
    }
    expect(stderr.filter((line) => line.includes('tracing channel threw'))).toHaveLength(1);
  });

  it("createSqsBatchHandler: a rejecting logger on the line for a dropped record", async () => {
    const handler = createSqsBatchHandler({ keyStore, logger: loggerOf(rejecting('logger')), onEvent() {} });
    const garbage: SQSRecord = sqsRecord('not json');
    expect(await handler(sqsEvent([garbage]))).toEqual({ batchItemFailures: [] });
    await settled();
    expect(crashes).toEqual([]);
  });
});
