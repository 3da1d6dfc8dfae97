// One trace across the inbox, with the real OpenTelemetry SDK: the receiver's enqueue span and the
// worker's processing span (pg-boss on a real PostgreSQL, and the SQS batch handler) joined by a span link.
import diagnosticsChannel from 'node:diagnostics_channel';
import { context, SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, DELIVERY_CHANNEL_NAME, kompliantWebhook, memoryKeyStore, type DeliveryChannelMessage } from '../../../src/index.js';
import { inboxJob } from '../../../src/inbox/inbox.js';
import { createSqsBatchHandler } from '../../../src/lambda.js';
import { instrumentKompliantWebhooks } from '../../../src/otel.js';
import { pgBossInbox, startInboxWorker, type InboxWorker } from '../../../src/pg-boss.js';
import { createTestWebhook, memoryInbox } from '../../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../../support/app.js';
import { inboxMetaOf } from '../../support/inbox.js';
import { until } from '../../support/poll.js';
import { startPgBoss, stopPgBoss } from '../../support/pg-boss.js';
import { postgresSkipReason, type PostgresServer } from '../../support/postgres-server.js';

const MARKER = 'PLAINTEXT-MARKER-5d21';
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let uninstall: () => void;

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => {
  exporter.reset();
  uninstall = instrumentKompliantWebhooks({ tracerProvider });
});
afterEach(() => uninstall());

const deliverySpans = (): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name.startsWith('kompliant.webhook'));
const envelopeWithMarker = () => createTestWebhook({ keyId: KEY_ID, secret: SECRET, eventType: 'WORKFLOW_COMPLETED', data: { version: '1.0', subject_record_id: 'sr_1', note: MARKER } });

describe('the receiver span context in the inbox meta', () => {
  it("is the receiver span's own traceparent, so a worker can link to it", async () => {
    const inbox = memoryInbox();
    await request(express().post(PATH, kompliantWebhook({ keyStore, inbox, logger: false })))
      .post(PATH)
      .send(envelopeWithMarker())
      .expect(200);
    const [receiverSpan] = deliverySpans();
    const { traceId, spanId } = receiverSpan!.spanContext();
    expect(inbox.jobs[0]?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it('is absent when no tracer listens', async () => {
    uninstall();
    const inbox = memoryInbox();
    await request(express().post(PATH, kompliantWebhook({ keyStore, inbox, logger: false })))
      .post(PATH)
      .send(envelopeWithMarker())
      .expect(200);
    expect(inbox.jobs[0]).toBeDefined();
    expect(inbox.jobs[0]?.traceparent).toBeUndefined();
  });
});

describe('another tracer on the delivery channel', () => {
  const channel = diagnosticsChannel.tracingChannel<unknown, DeliveryChannelMessage>(DELIVERY_CHANNEL_NAME);
  const withTracer = async (traceparent: string): Promise<string | undefined> => {
    uninstall();
    const setContext = (message: unknown): void => {
      (message as DeliveryChannelMessage).traceContext = { traceparent, tracestate: 'vendor=1' };
    };
    channel.start.subscribe(setContext);
    try {
      const inbox = memoryInbox();
      await request(express().post(PATH, kompliantWebhook({ keyStore, inbox, logger: false })))
        .post(PATH)
        .send(envelopeWithMarker())
        .expect(200);
      return inbox.jobs[0]?.traceparent;
    } finally {
      channel.start.unsubscribe(setContext);
    }
  };

  it("sets the message's traceContext during start: the inbox stores it", async () => {
    expect(await withTracer('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('a malformed one is not stored', async () => {
    expect(await withTracer('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
    expect(await withTracer('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01')).toBeUndefined();
  });
});

describe('receiver.handle with a traceLink', () => {
  const receiver = createWebhookReceiver({ keyStore, idempotency: false, logger: false });
  const link = (traceLink: { traceparent?: unknown; tracestate?: unknown }) => receiver.handle(envelopeWithMarker(), () => undefined, { traceLink });

  it('links the delivery span to it, with its tracestate', async () => {
    await link({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=abc' });
    const [span] = deliverySpans();
    expect(span!.links).toHaveLength(1);
    const linked = span!.links[0]!.context;
    expect(linked).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(linked.traceState?.get('vendor')).toBe('abc');
  });

  it.each([
    ['not a W3C value', 'garbage'],
    ['an all-zero trace id', '00-00000000000000000000000000000000-b7ad6b7169203331-01'],
    ['an all-zero span id', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'],
    ['version ff', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['version 00 with an extra field', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra'],
    ['upper-case hex', '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01'],
    ['a number', 42],
  ])('ignores a traceparent that is %s: the delivery runs, its span has no link', async (_, traceparent) => {
    await expect(link({ traceparent })).resolves.toMatchObject({ duplicate: false });
    const [span] = deliverySpans();
    expect(span!.attributes['kompliant.outcome']).toBe('handled');
    expect(span!.links).toEqual([]);
  });

  it('keeps the link but drops a tracestate that is not printable ASCII of at most 512 characters', async () => {
    await link({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00', tracestate: `a=${'b'.repeat(600)}` });
    await link({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00', tracestate: 'a=b\n' });
    for (const span of deliverySpans()) {
      expect(span.links[0]?.context).toMatchObject({ spanId: 'b7ad6b7169203331', traceFlags: 0 });
      expect(span.links[0]?.context.traceState).toBeUndefined();
    }
  });
});

describe('the SQS batch handler', () => {
  it("links each record's span to the traceparent in its message attributes", async () => {
    const worker = createSqsBatchHandler({ keyStore, idempotency: false, logger: false, onEvent: () => undefined });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const response = await worker({
      Records: [
        { messageId: 'm1', body: JSON.stringify(envelopeWithMarker()), messageAttributes: { traceparent: { stringValue: traceparent } } },
        { messageId: 'm2', body: JSON.stringify(envelopeWithMarker()), messageAttributes: { traceparent: { stringValue: 'not-a-traceparent' } } },
      ],
    });
    expect(response.batchItemFailures).toEqual([]);
    const links = deliverySpans().map((span) => span.links.map((link) => link.context.spanId));
    expect(links.toSorted((a, b) => a.length - b.length)).toEqual([[], ['00f067aa0ba902b7']]);
  });
});

const skip = postgresSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/integrations/otel/inbox-link.test.ts ${skip}\n`);

describe.skipIf(skip !== undefined)('pg-boss inbox: one trace from the receiver to the worker', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let boss: PgBoss;
  const workers: InboxWorker[] = [];
  beforeAll(async () => {
    ({ server, pool, boss } = await startPgBoss(2));
  });
  afterAll(() => stopPgBoss({ server, pool, boss }, workers));

  it("the worker's processing span carries a link to the receiver's enqueue span", async () => {
    const queue = 'inbox-trace';
    const envelope = envelopeWithMarker();
    await request(express().post(PATH, kompliantWebhook({ keyStore, inbox: pgBossInbox({ boss, queue }), logger: false })))
      .post(PATH)
      .send(envelope)
      .expect(200);
    expect(deliverySpans()).toHaveLength(1);
    const receiverSpan = deliverySpans()[0]!;

    // The job holds the trace context beside the ciphertext, never the plaintext.
    const { rows } = await pool.query<{ data: { traceparent?: string } }>('SELECT data FROM pgboss.job WHERE name = $1', [queue]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.data.traceparent).toBe(`00-${receiverSpan.spanContext().traceId}-${receiverSpan.spanContext().spanId}-01`);
    expect(JSON.stringify(rows)).not.toContain(MARKER);

    const seen: string[] = [];
    workers.push(await startInboxWorker({ boss, queue, keyStore, logger: false, pollingIntervalSeconds: 0.5, onEvent: (event) => void seen.push(event.id) }));
    await until(() => deliverySpans().length, (n) => n === 2);
    expect(seen).toEqual([envelope.id]);
    const workerSpan = deliverySpans()[1]!;
    expect(workerSpan.kind).toBe(SpanKind.CONSUMER);
    expect(workerSpan.attributes['kompliant.outcome']).toBe('handled');
    expect(workerSpan.spanContext().spanId).not.toBe(receiverSpan.spanContext().spanId);
    expect(workerSpan.links).toHaveLength(1);
    expect(workerSpan.links[0]!.context.traceId).toBe(receiverSpan.spanContext().traceId);
    expect(workerSpan.links[0]!.context.spanId).toBe(receiverSpan.spanContext().spanId);
  });

  it('a job with a malformed traceparent is processed, its span without a link', async () => {
    const queue = 'inbox-trace-malformed';
    const envelope = envelopeWithMarker();
    const seen: string[] = [];
    workers.push(await startInboxWorker({ boss, queue, keyStore, logger: false, pollingIntervalSeconds: 0.5, onEvent: (event) => void seen.push(event.id) }));
    await boss.send(queue, { ...inboxJob(envelope, inboxMetaOf(envelope)), traceparent: '00-zz-not-a-trace', tracestate: { not: 'a string' } }, {});
    await until(() => seen.length, (n) => n === 1);
    await until(() => deliverySpans().length, (n) => n === 1);
    const [span] = deliverySpans();
    expect(span!.attributes['kompliant.outcome']).toBe('handled');
    expect(span!.links).toEqual([]);
  });
});
