// instrumentKompliantWebhooks: subscribes to the delivery tracing channel and turns each delivery into a span and metrics.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  createTraceState,
  isSpanContextValid,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type MeterProvider,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { DELIVERY_CHANNEL_NAME, type DeliveryChannelMessage, type TraceContext } from '../../delivery/channel.js';
import { endAttributes, spanName, startAttributes } from './attributes.js';
import { createDeliveryMetrics, type DeliveryMetrics } from './metrics.js';
import { describeThrown, printToStderr } from '../../delivery/observers.js';

/** Options of {@link instrumentKompliantWebhooks}. */
export interface KompliantOtelOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
}

/** The parts of OpenTelemetry this integration calls, as named in the one line reporting a failure. */
type OtelObserverKind = 'tracer' | 'span' | 'meter' | 'context manager';

/**
 * Reports failures of the tracer, its spans, the meter and the context manager: each is counted
 * (the `kompliant.webhook.observer_errors` counter, when the meter works) and the first of each
 * kind is written once to stderr. Nothing here throws.
 */
function createFailureReport(count: (kind: OtelObserverKind) => void): (kind: OtelObserverKind, error: unknown) => void {
  const reported = new Set<OtelObserverKind>();
  return (kind, error) => {
    try {
      count(kind);
    } catch {
      // The meter is failing too; its own failure is reported when it happens on its own call.
    }
    if (reported.has(kind)) return;
    reported.add(kind);
    printToStderr(
      `kompliant-webhooks/otel: the OpenTelemetry ${kind} threw (${describeThrown(error)}); ignored, the delivery and its answer are unchanged. ` +
        `Later failures of the ${kind} are counted (kompliant.webhook.observer_errors), not logged.`,
    );
  };
}

/**
 * A store for `bindStore` that runs the delivery in an OpenTelemetry context through the
 * registered context manager (`context.with`), so the handler's own spans nest under the
 * delivery span with whatever context manager the application registered. A context manager
 * that throws before running the delivery is reported and the delivery runs without it; once the
 * delivery ran, its own result or exception is what the caller gets.
 */
function otelContextStore(failed: (kind: OtelObserverKind, error: unknown) => void): AsyncLocalStorage<Context> {
  const store = {
    run: (value: Context, fn: (...args: unknown[]) => unknown, ...args: unknown[]) => {
      // What the delivery did inside `context.with`, read when `context.with` itself throws.
      const ran: { state: 'not run' | 'returned' | 'threw'; result?: unknown; thrown?: unknown } = { state: 'not run' };
      const delivery = (...inner: unknown[]): unknown => {
        try {
          ran.result = fn(...inner);
          ran.state = 'returned';
          return ran.result;
        } catch (error) {
          ran.thrown = error;
          ran.state = 'threw';
          throw error;
        }
      };
      try {
        return context.with(value, delivery, undefined, ...args);
      } catch (error) {
        if (ran.state === 'threw' && error === ran.thrown) throw error;
        failed('context manager', error);
        if (ran.state === 'not run') return fn(...args);
        if (ran.state === 'threw') throw ran.thrown;
        return ran.result;
      }
    },
  };
  // Node.js 26 enters bound stores as scopes (`withScope`) instead of calling `run`: enter the
  // context through the registered manager's `attach` (AsyncLocalStorageContextManager has it).
  const withScope = (value: Context): { [Symbol.dispose](): void } => {
    let token: { dispose?: () => void; [Symbol.dispose]?: () => void } | undefined;
    try {
      // @opentelemetry/api 1.x keeps the global manager behind a private getter; no public one exists yet.
      const getManager = (context as unknown as Record<string, (() => { attach?: (value: Context) => typeof token } | undefined) | undefined>)['_getContextManager'];
      const manager = getManager?.call(context);
      // No context manager registered (the API's no-op one): nothing to enter, nothing to report.
      if (manager === undefined || (manager as object).constructor?.name === 'NoopContextManager') return { [Symbol.dispose]() {} };
      if (typeof manager.attach !== 'function') throw new Error('it has no attach(): handler spans are not nested under the delivery span on this Node.js');
      token = manager.attach(value);
    } catch (error) {
      failed('context manager', error);
    }
    return {
      [Symbol.dispose]() {
        try {
          const dispose = token?.[Symbol.dispose] ?? token?.dispose;
          dispose?.call(token);
        } catch (error) {
          failed('context manager', error);
        }
      },
    };
  };
  return Object.assign(store, { withScope }) as unknown as AsyncLocalStorage<Context>;
}

/**
 * The span context of a delivery's `link` (a W3C trace context the core already checked), marked
 * remote: what the worker's span links to. Undefined without a link.
 */
function linkedSpanContext(link: DeliveryChannelMessage['link']): SpanContext | undefined {
  if (link === undefined) return undefined;
  const [, traceId, spanId, flags] = link.traceparent.split('-');
  const spanContext: SpanContext = { traceId: traceId!, spanId: spanId!, traceFlags: Number.parseInt(flags!, 16) & TraceFlags.SAMPLED, isRemote: true };
  if (link.tracestate !== undefined) spanContext.traceState = createTraceState(link.tracestate);
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A span's context as W3C text (what an inbox stores with the job), or undefined for an invalid (no-op) one. */
function traceContextOf(spanContext: SpanContext): TraceContext | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const text: TraceContext = { traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}` };
  const state = spanContext.traceState?.serialize();
  if (state !== undefined && state !== '') text.tracestate = state;
  return text;
}

/** Metrics that record nothing: the meter could not create its instruments. */
const NO_METRICS: DeliveryMetrics = { record() {}, countObserverError() {} };

/**
 * Traces and measures every Kompliant delivery: one CONSUMER span per delivery named
 * `kompliant.webhook <EVENT_TYPE>` (`kompliant.webhook` for a rejection before decryption),
 * with the handler running inside its context. In inbox mode the receiver's span context is
 * stored with the job, and the worker's span carries a link to it (one trace across the queue), and the metrics `kompliant.webhook.deliveries`,
 * `kompliant.webhook.duration` and `kompliant.webhook.event_age`. Returns a function that
 * uninstalls it. Attributes hold identifiers, outcome and code only: never a secret, plaintext,
 * ciphertext or payload value. A tracer, span, meter or context manager that throws never changes
 * a delivery or its answer and never ends the process: the failure is counted
 * (`kompliant.webhook.observer_errors`, by `kompliant.observer`) and the first of each kind is
 * written once to stderr.
 *
 * @example
 * ```ts
 * import { instrumentKompliantWebhooks } from 'kompliant-webhooks/otel';
 * const uninstall = instrumentKompliantWebhooks(); // after the OpenTelemetry SDK started
 * ```
 */
export function instrumentKompliantWebhooks(options: KompliantOtelOptions = {}): () => void {
  if (typeof options !== 'object' || options === null) throw new TypeError('instrumentKompliantWebhooks: options must be an object');
  for (const name of Object.keys(options)) {
    if (name !== 'tracerProvider' && name !== 'meterProvider') throw new TypeError(`instrumentKompliantWebhooks: unknown option ${JSON.stringify(name)}`);
  }
  if (typeof diagnosticsChannel.tracingChannel !== 'function') return () => {};
  let metricsInUse: DeliveryMetrics = NO_METRICS;
  const failed = createFailureReport((kind) => metricsInUse.countObserverError(kind));
  let tracer: Tracer | undefined;
  try {
    tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('kompliant-webhooks');
  } catch (error) {
    failed('tracer', error);
  }
  try {
    metricsInUse = createDeliveryMetrics(options.meterProvider ?? metrics.getMeterProvider());
  } catch (error) {
    failed('meter', error);
  }
  const deliveryMetrics = metricsInUse;
  const channel = diagnosticsChannel.tracingChannel<Context, DeliveryChannelMessage>(DELIVERY_CHANNEL_NAME);
  const spans = new WeakMap<DeliveryChannelMessage, Span>();
  const store = otelContextStore(failed);

  // Everything below runs inside the library's publish calls: whatever OpenTelemetry throws is
  // caught here, because node:diagnostics_channel rethrows a subscriber's exception as an
  // uncaught exception, which ends the process.
  const startSpan = (message: DeliveryChannelMessage): Context => {
    let parent: Context = ROOT_CONTEXT;
    try {
      parent = context.active();
    } catch (error) {
      failed('context manager', error);
    }
    if (tracer === undefined) return parent;
    try {
      const link = linkedSpanContext(message.link);
      const span = tracer.startSpan(
        spanName(message),
        { kind: SpanKind.CONSUMER, startTime: message.startTime, attributes: startAttributes(), ...(link === undefined ? {} : { links: [{ context: link }] }) },
        parent,
      );
      spans.set(message, span);
      message.traceContext = traceContextOf(span.spanContext());
      return trace.setSpan(parent, span);
    } catch (error) {
      failed('tracer', error);
      return parent;
    }
  };

  const finish = (message: DeliveryChannelMessage): void => {
    const now = Date.now();
    try {
      deliveryMetrics.record(message, now);
    } catch (error) {
      failed('meter', error);
    }
    const span = spans.get(message);
    if (span === undefined) return;
    spans.delete(message);
    // Each call on its own, so a span whose attributes fail still ends.
    try {
      span.updateName(spanName(message));
      span.setAttributes(endAttributes(message));
    } catch (error) {
      failed('span', error);
    }
    try {
      if ((message.status ?? 500) >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: message.code ?? 'HANDLER_FAILED' });
    } catch (error) {
      failed('span', error);
    }
    try {
      span.end(now);
    } catch (error) {
      failed('span', error);
    }
  };

  const onAsyncEnd = (message: unknown): void => finish(message as DeliveryChannelMessage);
  channel.start.bindStore(store, startSpan);
  channel.asyncEnd.subscribe(onAsyncEnd);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    channel.start.unbindStore(store);
    channel.asyncEnd.unsubscribe(onAsyncEnd);
  };
}
