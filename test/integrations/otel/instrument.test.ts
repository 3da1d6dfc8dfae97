// kompliant-webhooks/otel with the real OpenTelemetry SDK: spans, context propagation into the handler, metrics, and no secret anywhere.
import diagnosticsChannel from 'node:diagnostics_channel';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhookReceiver, DELIVERY_CHANNEL_NAME, isWebhookError, kompliantWebhook, memoryKeyStore, type KompliantEvent } from '../../../src/index.js';
import { createFetchHandler } from '../../../src/fetch.js';
import { instrumentKompliantWebhooks } from '../../../src/otel.js';
import { createTestWebhook, generateSharedSecret } from '../../../src/testing.js';
import express from 'express';

const KEY_ID = 'whk_20251121_01';
const SECRET = generateSharedSecret();
const MARKER = 'PLAINTEXT-MARKER-91c4';
const payload = { version: '1.0', subject_record_id: 'sr_secret_value', user_context: { user_id: 'u_1', user_type: 'USER' }, note: MARKER };
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });

class TestMetricReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let reader: TestMetricReader;
let uninstall: () => void;
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  context.disable();
});
beforeEach(() => {
  exporter.reset();
  reader = new TestMetricReader();
  uninstall = instrumentKompliantWebhooks({ tracerProvider, meterProvider: new MeterProvider({ readers: [reader] }) });
});
afterEach(() => uninstall());

function appWith(onEvent: (event: KompliantEvent) => unknown, extra: { handlerTimeoutMs?: number } = {}) {
  const app = express();
  app.post('/hook', kompliantWebhook({ keyStore, onEvent, ...extra }));
  return app;
}

const deliverySpans = (): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name.startsWith('kompliant.webhook'));

async function metricPoints(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<unknown>[]));
}

describe('instrumentKompliantWebhooks: spans', () => {
  it('one CONSUMER span per delivery, named after the event type, with the messaging attributes', async () => {
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload, eventType: 'WORKFLOW_COMPLETED' });
    await request(appWith(() => undefined)).post('/hook').send(envelope).expect(200);
    const [span] = deliverySpans();
    expect(deliverySpans()).toHaveLength(1);
    expect(span!.name).toBe('kompliant.webhook WORKFLOW_COMPLETED');
    expect(span!.kind).toBe(SpanKind.CONSUMER);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(span!.attributes).toMatchObject({
      'messaging.system': 'kompliant',
      'messaging.operation.type': 'process',
      'messaging.message.id': envelope.id,
      'kompliant.event_type': 'WORKFLOW_COMPLETED',
      'kompliant.key_id': KEY_ID,
      'kompliant.account_id': envelope.account_id,
      'kompliant.outcome': 'handled',
    });
    expect(span!.attributes['kompliant.error_code']).toBeUndefined();
  });

  it('runs the handler inside the delivery span: a span the handler starts is its child', async () => {
    const app = appWith(async () => {
      await new Promise((resolve) => setImmediate(resolve)); // across an async hop too
      tracerProvider.getTracer('app').startActiveSpan('user work', (span) => span.end());
    });
    await request(app).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(200);
    const delivery = deliverySpans()[0]!;
    const user = exporter.getFinishedSpans().find((span) => span.name === 'user work')!;
    expect(user.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
    expect(user.spanContext().traceId).toBe(delivery.spanContext().traceId);
  });

  it('receiver.handle: the same span, the handler nested under it', async () => {
    const receiver = createWebhookReceiver({ keyStore });
    await receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID, eventType: 'DOCUMENT_UPLOADED' }), () => {
      tracerProvider.getTracer('app').startActiveSpan('user work', (span) => span.end());
    });
    const delivery = deliverySpans()[0]!;
    expect(delivery.name).toBe('kompliant.webhook DOCUMENT_UPLOADED');
    expect(delivery.attributes['kompliant.outcome']).toBe('handled');
    const user = exporter.getFinishedSpans().find((span) => span.name === 'user work')!;
    expect(user.parentSpanContext?.spanId).toBe(delivery.spanContext().spanId);
  });

  it('the Fetch adapter publishes too', async () => {
    const handler = createFetchHandler({ keyStore, onEvent: () => undefined });
    const body = JSON.stringify(createTestWebhook({ secret: SECRET, keyId: KEY_ID }));
    const response = await handler(new Request('http://localhost/hook', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    expect(response.status).toBe(200);
    expect(deliverySpans().map((span) => span.attributes['kompliant.outcome'])).toEqual(['handled']);
  });

  it('a duplicate is its own span with outcome duplicate', async () => {
    const app = appWith(() => undefined);
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await request(app).post('/hook').send(envelope).expect(200);
    await request(app).post('/hook').send(envelope).expect(200);
    expect(deliverySpans().map((span) => span.attributes['kompliant.outcome'])).toEqual(['handled', 'duplicate']);
  });

  it('a rejection before decryption: span `kompliant.webhook`, outcome rejected, its code, no event identifiers, status not ERROR (4xx)', async () => {
    const forged = createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID });
    await request(appWith(() => undefined)).post('/hook').send(forged).expect(401);
    const spans = deliverySpans();
    expect(spans[0]!.name).toBe('kompliant.webhook');
    expect(spans[0]!.attributes).toMatchObject({ 'kompliant.outcome': 'rejected', 'kompliant.error_code': 'DECRYPTION_FAILED' });
    expect(spans[0]!.attributes['messaging.message.id']).toBeUndefined();
    expect(spans[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a failing handler: outcome failed, HANDLER_FAILED, status ERROR', async () => {
    await request(appWith(() => Promise.reject(new Error(`boom ${MARKER}`)))).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(500);
    const span = deliverySpans()[0]!;
    expect(span.attributes).toMatchObject({ 'kompliant.outcome': 'failed', 'kompliant.error_code': 'HANDLER_FAILED' });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HANDLER_FAILED' });
  });

  it('a handler past handlerTimeoutMs: outcome timeout, status ERROR', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await request(appWith(() => held, { handlerTimeoutMs: 20 })).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(503);
    release();
    const span = deliverySpans()[0]!;
    expect(span.attributes).toMatchObject({ 'kompliant.outcome': 'timeout', 'kompliant.error_code': 'HANDLER_TIMEOUT' });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('uninstall stops spans and leaves the channel without listeners', async () => {
    uninstall();
    uninstall(); // idempotent
    await request(appWith(() => undefined)).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(200);
    expect(deliverySpans()).toEqual([]);
    const channel = diagnosticsChannel.tracingChannel(DELIVERY_CHANNEL_NAME);
    expect([channel.start, channel.end, channel.asyncStart, channel.asyncEnd, channel.error].some((c) => c.hasSubscribers)).toBe(false);
  });

  it('rejects unknown options', () => {
    expect(() => instrumentKompliantWebhooks({ tracer: {} } as never)).toThrow(/unknown option "tracer"/);
  });
});

describe('instrumentKompliantWebhooks: metrics', () => {
  it('counts deliveries by outcome and code, and records duration and event age', async () => {
    const app = appWith(() => undefined);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await request(app).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, timestamp: hourAgo })).expect(200);
    await request(app).post('/hook').send(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID })).expect(401);

    const counts = (await metricPoints('kompliant.webhook.deliveries')).map((p) => ({ ...p.attributes, value: p.value }));
    expect(counts).toEqual(
      expect.arrayContaining([
        { 'messaging.system': 'kompliant', 'kompliant.outcome': 'handled', 'kompliant.event_type': 'WORKFLOW_COMPLETED', value: 1 },
        { 'messaging.system': 'kompliant', 'kompliant.outcome': 'rejected', 'kompliant.error_code': 'DECRYPTION_FAILED', value: 1 },
      ]),
    );
    const durations = await metricPoints('kompliant.webhook.duration');
    expect(durations.reduce((n, p) => n + (p.value as Histogram).count, 0)).toBe(2);
    const ages = await metricPoints('kompliant.webhook.event_age');
    expect(ages).toHaveLength(1);
    const age = ages[0]!.value as Histogram;
    expect(age.count).toBe(1);
    expect(age.min).toBeGreaterThanOrEqual(3_599);
  });
});

describe('instrumentKompliantWebhooks: nothing secret', () => {
  it('no secret, ciphertext, plaintext or payload value in any span name, attribute, status or metric attribute', async () => {
    const app = appWith(() => undefined);
    const envelopes = [
      createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload }),
      createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID, data: payload }),
    ];
    for (const envelope of envelopes) await request(app).post('/hook').send(envelope);
    await request(appWith(() => Promise.reject(new Error(MARKER)))).post('/hook').send(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload }));
    const receiver = createWebhookReceiver({ keyStore });
    await receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload }), () => undefined).catch((e: unknown) => expect(isWebhookError(e)).toBe(true));

    const seen = JSON.stringify({
      spans: exporter.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events })),
      metrics: (await reader.collect()).resourceMetrics,
    });
    expect(deliverySpans().length).toBe(4);
    const forbidden = [SECRET, Buffer.from(SECRET, 'base64').toString('hex'), MARKER, 'sr_secret_value', ...envelopes.map((e) => e.data)];
    for (const value of forbidden) expect(seen).not.toContain(value);
  });
});
