// kompliant-webhooks/otel with a tracer, spans, a meter or a context manager that throw: the answer is unchanged and the process lives (issue 28, item 5).
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  ROOT_CONTEXT,
  type ContextManager,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { MeterProvider as SdkMeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookStats, kompliantWebhook, memoryKeyStore, type KompliantEvent, type WebhookStats } from '../../../src/index.js';
import { instrumentKompliantWebhooks } from '../../../src/otel.js';
import { createTestWebhook, generateSharedSecret } from '../../../src/testing.js';

const KEY_ID = 'whk_20251121_01';
const SECRET = generateSharedSecret();
const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });

class TestMetricReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const boom = (what: string) => () => {
  throw new Error(`${what} exploded`);
};

/** A span whose every method throws. */
function throwingSpan(): Span {
  return new Proxy({} as Span, {
    get: (_target, name) => (name === 'then' ? undefined : boom(`span.${String(name)}`)),
  });
}

const tracerProvider = (tracer: Partial<Tracer>): TracerProvider => ({ getTracer: () => tracer as Tracer });
const throwingStartSpan = tracerProvider({ startSpan: boom('tracer.startSpan'), startActiveSpan: boom('tracer.startActiveSpan') as never });
const throwingSpans = tracerProvider({ startSpan: () => throwingSpan() });

/** A meter whose instruments are created but throw on every add/record. */
function throwingInstrumentsMeter(): MeterProvider {
  const counter = { add: boom('counter.add') } as unknown as Counter;
  const histogram = { record: boom('histogram.record') } as unknown as Histogram;
  const meter = { createCounter: () => counter, createHistogram: () => histogram } as unknown as Meter;
  return { getMeter: () => meter };
}
const throwingGetMeter: MeterProvider = { getMeter: boom('meterProvider.getMeter') };

let server: Server | undefined;
let uninstall: (() => void) | undefined;
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
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(async () => {
  uninstall?.();
  uninstall = undefined;
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUnhandled);
  vi.restoreAllMocks();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

let stats: WebhookStats;

/** A plain node:http server with the middleware; the handler throws for `data.fail`. */
async function listen(handled: string[]): Promise<number> {
  stats = createWebhookStats();
  const middleware = kompliantWebhook({
    keyStore,
    stats,
    onEvent(event: KompliantEvent) {
      if ((event.data as { fail?: boolean }).fail === true) throw new Error('database down');
      handled.push(event.id);
    },
  });
  const listening = createServer((req, res) => void middleware(req, res));
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return (listening.address() as AddressInfo).port;
}

function post(port: number, body: string): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: text === '' ? undefined : (JSON.parse(text) as { error?: { code?: string } }).error?.code }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Lets anything queued for the next ticks (where node:diagnostics_channel rethrows a subscriber's
 * error) run. A short sleep on purpose: it proves a crash does NOT happen, and there is no event
 * to wait for when nothing goes wrong.
 */
const settled = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

/** A good envelope, a forged one, a failing handler and the good one again (a duplicate), each with its answer. */
async function deliverAll(port: number, handled: string[]): Promise<void> {
  const good = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
  const forged = createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID });
  const failing = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: { version: '1.0', fail: true } as never });
  expect(await post(port, JSON.stringify(good))).toEqual({ status: 200, code: undefined });
  expect(await post(port, JSON.stringify(forged))).toEqual({ status: 401, code: 'DECRYPTION_FAILED' });
  expect(await post(port, JSON.stringify(failing))).toEqual({ status: 500, code: 'HANDLER_FAILED' });
  expect(await post(port, JSON.stringify(good))).toEqual({ status: 200, code: undefined });
  await settled();
  expect(handled).toEqual([good.id]);
  // Each request ran through the receiver once.
  expect(stats.snapshot()).toMatchObject({ received: 4, handled: 1, duplicate: 1, rejected: { DECRYPTION_FAILED: 1, HANDLER_FAILED: 1 } });
  expect(crashes).toEqual([]);
}

describe('instrumentKompliantWebhooks: an OpenTelemetry component that throws never changes an answer or ends the process', () => {
  it('a tracer whose startSpan throws: every answer as without tracing, one stderr line, each failure counted', async () => {
    const reader = new TestMetricReader();
    uninstall = instrumentKompliantWebhooks({ tracerProvider: throwingStartSpan, meterProvider: new SdkMeterProvider({ readers: [reader] }) });
    const handled: string[] = [];
    await deliverAll(await listen(handled), handled);

    expect(stderr.filter((line) => line.includes('tracer'))).toHaveLength(1);
    expect(stderr.join('\n')).toContain('tracer.startSpan exploded');
    const { resourceMetrics } = await reader.collect();
    const points = resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.filter((m) => m.descriptor.name === 'kompliant.webhook.observer_errors').flatMap((m) => m.dataPoints as DataPoint<number>[]),
    );
    expect(points.map((p) => [p.attributes['kompliant.observer'], p.value])).toEqual([['tracer', 4]]);
  });

  it('spans whose setAttributes, setStatus, updateName and end throw', async () => {
    uninstall = instrumentKompliantWebhooks({ tracerProvider: throwingSpans, meterProvider: new SdkMeterProvider() });
    const handled: string[] = [];
    await deliverAll(await listen(handled), handled);
    expect(stderr.filter((line) => line.includes('OpenTelemetry span'))).toHaveLength(1);
  });

  it('a meter whose instruments throw on every add and record (after the answer is decided)', async () => {
    uninstall = instrumentKompliantWebhooks({ tracerProvider: throwingSpans, meterProvider: throwingInstrumentsMeter() });
    const handled: string[] = [];
    await deliverAll(await listen(handled), handled);
    expect(stderr.filter((line) => line.includes('OpenTelemetry meter'))).toHaveLength(1);
  });

  it('a meter provider that throws when the instrumentation is installed', async () => {
    uninstall = instrumentKompliantWebhooks({ tracerProvider: throwingStartSpan, meterProvider: throwingGetMeter });
    const handled: string[] = [];
    await deliverAll(await listen(handled), handled);
    expect(stderr.filter((line) => line.includes('OpenTelemetry meter'))).toHaveLength(1);
    expect(stderr.filter((line) => line.includes('OpenTelemetry tracer'))).toHaveLength(1);
  });

  it('a tracer provider whose getTracer throws when the instrumentation is installed', async () => {
    uninstall = instrumentKompliantWebhooks({ tracerProvider: { getTracer: boom('tracerProvider.getTracer') }, meterProvider: new SdkMeterProvider() });
    const handled: string[] = [];
    await deliverAll(await listen(handled), handled);
    expect(stderr.filter((line) => line.includes('OpenTelemetry tracer'))).toHaveLength(1);
  });

  /** Runs `deliverAll` with `manager` as the global context manager. */
  async function withContextManager(manager: Partial<ContextManager>): Promise<void> {
    const base: ContextManager = {
      active: () => ROOT_CONTEXT,
      with: (_context, fn, thisArg, ...args) => fn.call(thisArg, ...args),
      bind: <T>(_context: unknown, target: T) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    context.setGlobalContextManager({ ...base, ...manager } as ContextManager);
    try {
      uninstall = instrumentKompliantWebhooks({ tracerProvider: throwingSpans, meterProvider: new SdkMeterProvider() });
      const handled: string[] = [];
      await deliverAll(await listen(handled), handled);
      expect(stderr.filter((line) => line.includes('OpenTelemetry context manager'))).toHaveLength(1);
    } finally {
      context.disable();
    }
  }

  it('a context manager whose active() and with() throw before running the delivery: the delivery runs without it', async () => {
    await withContextManager({ active: boom('contextManager.active'), with: boom('contextManager.with') as never });
  });

  it('a context manager whose with() throws after running the delivery: the delivery ran once and its answer stands', async () => {
    await withContextManager({
      with: ((_context: unknown, fn: (...args: unknown[]) => unknown, thisArg: unknown, ...args: unknown[]) => {
        fn.call(thisArg, ...args);
        throw new Error('contextManager.with exploded on the way out');
      }) as never,
    });
  });
});
