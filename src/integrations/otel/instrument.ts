// instrumentKompliantWebhooks: subscribes to the delivery tracing channel and turns each delivery into a span and metrics.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { context, metrics, SpanKind, SpanStatusCode, trace, type Context, type MeterProvider, type Span, type TracerProvider } from '@opentelemetry/api';
import { DELIVERY_CHANNEL_NAME, type DeliveryChannelMessage } from '../../delivery/channel.js';
import { endAttributes, spanName, startAttributes } from './attributes.js';
import { createDeliveryMetrics } from './metrics.js';

/** Options of {@link instrumentKompliantWebhooks}. */
export interface KompliantOtelOptions {
  /** Where spans go. Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Where metrics go. Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
}

/**
 * A store for `bindStore` that runs the delivery in an OpenTelemetry context through the
 * registered context manager (`context.with`), so the handler's own spans nest under the
 * delivery span with whatever context manager the application registered.
 */
function otelContextStore(): AsyncLocalStorage<Context> {
  const store = { run: (value: Context, fn: (...args: unknown[]) => unknown, ...args: unknown[]) => context.with(value, fn, undefined, ...args) };
  return store as unknown as AsyncLocalStorage<Context>;
}

/**
 * Traces and measures every Kompliant delivery: one CONSUMER span per delivery named
 * `kompliant.webhook <EVENT_TYPE>` (`kompliant.webhook` for a rejection before decryption),
 * with the handler running inside its context, and the metrics `kompliant.webhook.deliveries`,
 * `kompliant.webhook.duration` and `kompliant.webhook.event_age`. Returns a function that
 * uninstalls it. Attributes hold identifiers, outcome and code only: never a secret, plaintext,
 * ciphertext or payload value.
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
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('kompliant-webhooks');
  const deliveryMetrics = createDeliveryMetrics(options.meterProvider ?? metrics.getMeterProvider());
  const channel = diagnosticsChannel.tracingChannel<Context, DeliveryChannelMessage>(DELIVERY_CHANNEL_NAME);
  const spans = new WeakMap<DeliveryChannelMessage, Span>();
  const store = otelContextStore();

  const startSpan = (message: DeliveryChannelMessage): Context => {
    const parent = context.active();
    const span = tracer.startSpan(spanName(message), { kind: SpanKind.CONSUMER, startTime: message.startTime, attributes: startAttributes() }, parent);
    spans.set(message, span);
    return trace.setSpan(parent, span);
  };

  const finish = (message: DeliveryChannelMessage): void => {
    const now = Date.now();
    deliveryMetrics.record(message, now);
    const span = spans.get(message);
    if (span === undefined) return;
    spans.delete(message);
    span.updateName(spanName(message));
    span.setAttributes(endAttributes(message));
    if ((message.status ?? 500) >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: message.code ?? 'HANDLER_FAILED' });
    span.end(now);
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
