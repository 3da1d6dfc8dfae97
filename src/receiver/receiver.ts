// The framework-free receiver (`createWebhookReceiver`): the receive path without HTTP.
import type { WebhookError } from '../wire/errors.js';
import type { KompliantEvent, PayloadV1 } from '../wire/event.js';
import { checkFunction } from '../options/checks.js';
import { DELIVERY_OPTION_NAMES, type DeliveryOptions } from '../delivery/options.js';
import { parseTraceContext, traceDelivery } from '../delivery/channel.js';
import type { PayloadSchemas, SchemaEvent } from './payload-schemas.js';
import { safeHook } from '../delivery/observers.js';
import { notifyError } from './notify-error.js';
import { ENVELOPE_OPTION_NAMES, type EnvelopeOptions } from './options.js';
import { receiveWebhook, resolveReceiverCore, type Disposal } from './receive.js';

const WEBHOOK_RECEIVER_OPTION_NAMES: readonly string[] = [...ENVELOPE_OPTION_NAMES, ...DELIVERY_OPTION_NAMES];

/**
 * Options of {@link createWebhookReceiver}: how to open an envelope (`EnvelopeOptions`) plus
 * deduplication, timeouts, logs and counters (`DeliveryOptions`). `TSchemas` is the type of `schemas`, which types the event `handle` passes on.
 */
export interface ReceiverOptions<TSchemas extends PayloadSchemas = PayloadSchemas> extends EnvelopeOptions<TSchemas>, DeliveryOptions {}

/** What {@link WebhookReceiver.handle} did with a delivery. */
export interface HandleResult<TData = PayloadV1> {
  /** The verified event. */
  event: KompliantEvent<TData>;
  /** True when the id was already handled: the handler was not called. Answer 200 anyway. */
  duplicate: boolean;
}

/** Per-call settings of {@link WebhookReceiver.handle}. */
export interface HandleOptions {
  /**
   * A deadline of the caller's own, such as a queue consumer's remaining invocation time: it caps
   * the whole delivery (`deliveryTimeoutMs`), so the key lookup, claim, schema check and handler
   * all end within it; the handler gets at most the receiver's `handlerTimeoutMs`.
   */
  handlerTimeoutMs?: number;
  /**
   * The W3C trace context `body` was queued under (a queue message's `traceparent` and
   * `tracestate`, as an inbox job stores them): a tracer on the delivery channel, such as
   * `kompliant-webhooks/otel`, links the delivery span to it. A malformed value is ignored.
   */
  traceLink?: { traceparent?: unknown; tracestate?: unknown };
}

/** The framework-free pipeline; `TSchemas` (the `schemas` option's type) types `handle`'s event. */
export interface WebhookReceiver<TSchemas extends PayloadSchemas = {}> {
  /**
   * Validates, resolves the key, decrypts, checks the payload's schema (if any) and returns the
   * event. `body` is the request body as a JSON string, UTF-8 bytes, or an already parsed object.
   * Rejects with `WebhookError`. Counted and logged like a pass-through delivery: `received`, then
   * `handled` when the event is returned (no deduplication: use `handle` for that) or `rejected`
   * with the code.
   */
  receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>>;
  /**
   * Receives `body` and runs `handler` on the event at most once per `id` (the `idempotency`
   * store, a memory store by default), within `handlerTimeoutMs`. Resolves when the handler
   * finished (answer 200) or the id was already done (`duplicate: true`, answer 200). Rejects
   * with a `WebhookError`: the pipeline's codes, 409 DUPLICATE_IN_PROGRESS, 503
   * IDEMPOTENCY_STORE_UNAVAILABLE (the store failed before the handler ran), 500 HANDLER_FAILED
   * (claim released, the retry runs again), 503 HANDLER_TIMEOUT (claim held until the handler
   * settles, or one lease after `deliveryTimeoutMs`), 400 INVALID_PAYLOAD (the payload failed its schema). Answer with `error.status`.
   * Without a type argument the event is typed from `schemas` (`data` is the schema's output).
   */
  handle(
    body: unknown,
    handler: (event: SchemaEvent<TSchemas>) => unknown,
    options?: HandleOptions,
  ): Promise<HandleResult<SchemaEvent<TSchemas>['data']>>;
  handle<TData = PayloadV1>(
    body: unknown,
    handler: (event: KompliantEvent<TData>) => unknown,
    options?: HandleOptions,
  ): Promise<HandleResult<TData>>;
}

/**
 * Creates the framework-free receiver: the same pipeline as the middleware, with no HTTP,
 * for other frameworks, queue consumers and scripts. Options are checked here, once; a bad
 * option throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ whk_20251121_01: secret }) });
 * const event = await receiver.receive(message.body); // rejects with WebhookError
 *
 * // Or with deduplication by id and the handler timeout:
 * const { duplicate } = await receiver.handle(message.body, async (event) => save(event));
 * ```
 */
export function createWebhookReceiver<TSchemas extends PayloadSchemas = {}>(options: ReceiverOptions<TSchemas>): WebhookReceiver<TSchemas> {
  const core = resolveReceiverCore(options, WEBHOOK_RECEIVER_OPTION_NAMES, 'createWebhookReceiver');
  const onError = safeHook(checkFunction<(error: WebhookError) => void>(options.onError, 'onError'), core.plan.observerFailed);
  const notify = (error: WebhookError): void => notifyError(onError, error);
  return {
    async handle<TData>(
      body: unknown,
      handler: (event: KompliantEvent<TData>) => unknown,
      handleOptions?: HandleOptions,
    ): Promise<HandleResult<TData>> {
      if (typeof handler !== 'function') throw new TypeError('handle: handler must be a function');
      const deadline = handleOptions?.handlerTimeoutMs;
      if (deadline !== undefined && (typeof deadline !== 'number' || !(deadline > 0))) {
        throw new TypeError('handle: handlerTimeoutMs must be a positive number');
      }
      const disposal: Disposal = { mode: 'deliver', handler: handler as (event: KompliantEvent<unknown>) => unknown, deadlineMs: deadline };
      const link = handleOptions?.traceLink;
      const linked = typeof link === 'object' && link !== null ? parseTraceContext(link.traceparent, link.tracestate) : undefined;
      const received = await traceDelivery('receiver', (trace) => receiveWebhook(core, () => body, disposal, notify, trace), linked);
      if (received.outcome === 'rejected') throw received.error;
      return { event: received.event as KompliantEvent<TData>, duplicate: received.outcome === 'duplicate' };
    },
    async receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>> {
      const received = await receiveWebhook(core, () => body, RETURN, notify, undefined);
      if (received.outcome === 'rejected') throw received.error;
      return received.event as KompliantEvent<TData>;
    },
  };
}

const RETURN: Disposal = { mode: 'return' };
