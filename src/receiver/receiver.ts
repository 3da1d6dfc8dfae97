// The framework-free receiver (`createWebhookReceiver`): the pipeline and delivery without HTTP.
import { isWebhookError, WebhookError } from '../wire/errors.js';
import type { KompliantEvent, PayloadV1 } from '../wire/event.js';
import { countingKeyStore } from '../key-stores/counting.js';
import { checkFunction, checkOptionNames } from '../options/checks.js';
import { DELIVERY_OPTION_NAMES, resolveDeliveryOptions, withHandlerDeadline, type DeliveryOptions } from '../delivery/options.js';
import { reportDelivered, reportRejected } from '../delivery/report.js';
import { deliver } from '../delivery/sequence.js';
import { countStat } from '../delivery/stats.js';
import { safeHook } from '../delivery/observers.js';
import { finishDeliveryTrace, traceDelivery, traceEvent, type DeliveryChannelMessage } from '../delivery/channel.js';
import { validatePayload, type PayloadSchemas, type SchemaEvent } from './payload-schemas.js';
import { notifyError } from './notify-error.js';
import { RECEIVER_OPTION_NAMES, resolveReceiverOptions, type ReceiverOptions, type ResolvedReceiverOptions } from './options.js';
import { runPipeline } from './pipeline.js';

const WEBHOOK_RECEIVER_OPTION_NAMES: readonly string[] = [...RECEIVER_OPTION_NAMES, ...DELIVERY_OPTION_NAMES];

/**
 * Options of {@link createWebhookReceiver}: the core options plus deduplication, timeouts, logs and
 * counters. `TSchemas` is the type of `schemas`, which types the event `handle` passes on.
 */
export interface WebhookReceiverOptions<TSchemas extends PayloadSchemas = PayloadSchemas> extends ReceiverOptions<TSchemas>, DeliveryOptions {}

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
   * A deadline of the caller's own, such as a queue consumer's remaining invocation time: the
   * handler gets the smaller of this and the receiver's `handlerTimeoutMs`.
   */
  handlerTimeoutMs?: number;
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
   * with a `WebhookError`: the pipeline's codes, 409 DUPLICATE_IN_PROGRESS, 500 HANDLER_FAILED
   * (claim released, the retry runs again), 503 HANDLER_TIMEOUT (claim kept until the handler
   * settles), 400 INVALID_PAYLOAD (the payload failed its schema). Answer with `error.status`.
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
export function createWebhookReceiver<TSchemas extends PayloadSchemas = {}>(options: WebhookReceiverOptions<TSchemas>): WebhookReceiver<TSchemas> {
  const plan = resolveDeliveryOptions(options);
  const config: ResolvedReceiverOptions = resolveReceiverOptions(options, (store) => countingKeyStore(store, plan.stats));
  checkOptionNames(options, WEBHOOK_RECEIVER_OPTION_NAMES, 'createWebhookReceiver');
  const onError = safeHook(checkFunction<(error: WebhookError) => void>(options.onError, 'onError'), plan.observerFailed);
  const rejected = (started: number, error: unknown): Promise<never> => {
    if (isWebhookError(error)) {
      reportRejected(plan, started, error);
      notifyError(onError, error);
    }
    return Promise.reject(error);
  };
  const received = <TData>(started: number, event: KompliantEvent<TData>): KompliantEvent<TData> => {
    reportDelivered(plan, started, 'passed', event);
    return event;
  };
  /** The pipeline, then the payload's schema. */
  const open = <TData>(body: unknown): KompliantEvent<TData> | Promise<KompliantEvent<TData>> => {
    const opened = runPipeline<TData>(config, body);
    return opened instanceof Promise
      ? opened.then((event) => validatePayload(config.schemas, event, plan.handlerTimeoutMs))
      : validatePayload(config.schemas, opened, plan.handlerTimeoutMs);
  };
  /** One delivery; `trace` is its channel message when anybody listens. */
  const deliverBody = async <TData>(
    body: unknown,
    handler: (event: KompliantEvent<TData>) => unknown,
    trace: DeliveryChannelMessage | undefined,
    handlerTimeoutMs: number | undefined,
  ): Promise<HandleResult<TData>> => {
    const started = performance.now();
    countStat(plan.stats, 'received');
    let event: KompliantEvent<TData> | undefined;
    try {
      const opened = runPipeline<TData>(config, body);
      event = opened instanceof Promise ? await opened : opened;
      traceEvent(trace, event);
      const checked = validatePayload(config.schemas, event, plan.handlerTimeoutMs);
      event = checked instanceof Promise ? await checked : checked;
      const delivered = deliver(withHandlerDeadline(plan, handlerTimeoutMs), started, event, handler, trace);
      const outcome = delivered instanceof Promise ? await delivered : delivered;
      return { event, duplicate: outcome === 'duplicate' };
    } catch (error) {
      if (isWebhookError(error)) {
        reportRejected(plan, started, error, event, trace);
        notifyError(onError, error);
      } else {
        finishDeliveryTrace(trace, 'failed', event, new WebhookError('HANDLER_FAILED', { message: 'Internal error', cause: error }));
      }
      throw error;
    }
  };
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
      return traceDelivery('receiver', (trace) => deliverBody(body, handler, trace, deadline));
    },
    receive<TData = PayloadV1>(body: unknown): Promise<KompliantEvent<TData>> {
      const started = performance.now();
      countStat(plan.stats, 'received');
      let opened: KompliantEvent<TData> | Promise<KompliantEvent<TData>>;
      try {
        opened = open<TData>(body);
      } catch (error) {
        return rejected(started, error);
      }
      return opened instanceof Promise
        ? opened.then((event) => received(started, event), (error: unknown) => rejected(started, error))
        : Promise.resolve(received(started, opened));
    },
  };
}
