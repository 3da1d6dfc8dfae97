// Publishes each delivery on the `kompliant-webhooks:delivery` tracing channel (node:diagnostics_channel) for tracers such as the OpenTelemetry subpath.
import diagnosticsChannel from 'node:diagnostics_channel';
import type { WebhookError, WebhookErrorCode } from '../wire/errors.js';
import type { KompliantEvent } from '../wire/event.js';
import type { WebhookOutcome } from './logger.js';
import { describeThrown, printToStderr } from './observers.js';

/**
 * The name of the tracing channel each delivery is published on. Subscribe with
 * `diagnostics_channel.tracingChannel(DELIVERY_CHANNEL_NAME)`: its `start`, `end`, `asyncStart`,
 * `asyncEnd` and `error` channels are `tracing:kompliant-webhooks:delivery:start` and so on.
 */
export const DELIVERY_CHANNEL_NAME = 'kompliant-webhooks:delivery';

/** The authenticated identifiers of a delivered event: never `data`, never a secret. */
export interface DeliveryChannelEvent {
  id: string;
  event_type: string;
  account_id: string;
  key_id: string;
  /** The event's ISO 8601 `timestamp`, as sent. */
  timestamp: string;
  retry_count: number;
}

/**
 * A W3C trace context as text (`traceparent`, optional `tracestate`): how a delivery's trace
 * travels through a queue without this package depending on a tracer.
 */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

// W3C Trace Context level 1: version, trace id, parent id, flags; a later version may append fields.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const TRACESTATE = /^[\x20-\x7e]{0,512}$/;

/**
 * The trace context of a `traceparent` (and `tracestate`) read from a queued job, or undefined
 * when `traceparent` is not a valid W3C value (version `ff`, an all-zero id, a version `00` with
 * extra fields, not a string). A `tracestate` that is not a string of at most 512 printable ASCII
 * characters is left out. Values from a queue are untrusted: a malformed one means no link.
 */
export function parseTraceContext(traceparent: unknown, tracestate?: unknown): TraceContext | undefined {
  if (typeof traceparent !== 'string' || traceparent.length > 512) return undefined;
  const match = TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const [, version, traceId, spanId, , rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  const context: TraceContext = { traceparent };
  if (typeof tracestate === 'string' && tracestate !== '' && TRACESTATE.test(tracestate)) context.tracestate = tracestate;
  return context;
}

/**
 * The message of one delivery on the channel: the same object in each of its events. The
 * library fills it as the delivery goes: `event` once the envelope decrypted, then `outcome`,
 * `status` (and `error`, `code` for a failure) before `asyncStart` / `asyncEnd`.
 */
export interface DeliveryChannelMessage {
  /** `'http'` for the adapters (Express, Fetch, Lambda, Fastify), `'receiver'` for `createWebhookReceiver().handle`. */
  readonly entryPoint: 'http' | 'receiver';
  /** `Date.now()` when the delivery began. */
  readonly startTime: number;
  /**
   * The trace context the event was queued under, for a delivery taken from a queue (an inbox
   * job, an SQS message with a `traceparent` attribute): a tracer links its span to it. Set
   * before `start`, already checked as W3C Trace Context.
   */
  readonly link?: TraceContext;
  /**
   * The trace context of the delivery's own span, set by a tracer during `start` (the OpenTelemetry
   * subpath does): in inbox mode it is stored with the job, so the worker's span can link to it.
   */
  traceContext?: TraceContext;
  /** Set once the envelope decrypted (authenticated identifiers); absent for rejections before that. */
  event?: DeliveryChannelEvent;
  /** How the delivery ended; set before `asyncStart`. */
  outcome?: WebhookOutcome;
  /** 200 for a delivery that ended well (handled, duplicate, passed), else the error's status; set before `asyncStart`. */
  status?: number;
  /** The error code of a delivery that did not end in 200. */
  code?: WebhookErrorCode;
  /** The `WebhookError` of a delivery that did not end in 200; set before the `error` event. */
  error?: WebhookError;
}

type DeliveryTracingChannel = ReturnType<typeof diagnosticsChannel.tracingChannel<unknown, DeliveryChannelMessage>>;

// Runtimes without tracingChannel (older ones) simply publish nothing.
const channel: DeliveryTracingChannel | undefined =
  typeof diagnosticsChannel.tracingChannel === 'function' ? diagnosticsChannel.tracingChannel(DELIVERY_CHANNEL_NAME) : undefined;

/**
 * The channel when anybody subscribed to any of its events (checked per delivery, allocation-free;
 * `TracingChannel.hasSubscribers` itself is missing before Node 20.13).
 */
function listeningChannel(): DeliveryTracingChannel | undefined {
  if (channel === undefined) return undefined;
  const listened =
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers;
  return listened ? channel : undefined;
}

let storeFailureReported = false;

/** Writes the first failure of a store bound to the channel once to stderr. */
function reportStoreFailure(error: unknown): void {
  if (storeFailureReported) return;
  storeFailureReported = true;
  printToStderr(
    `kompliant-webhooks: a store bound to the ${DELIVERY_CHANNEL_NAME} tracing channel threw (${describeThrown(error)}); ` +
      'the delivery ran without it. Later failures are not logged.',
  );
}

/**
 * Runs one delivery. When nobody listens, `run(undefined)` and nothing else (no object is built).
 * `link` is the trace context a queued delivery was enqueued under (see `DeliveryChannelMessage.link`).
 * Otherwise publishes `start` with `run` inside the channel's bound stores (so a tracer's context
 * covers the whole delivery, the handler included), then `end`; the delivery is finished later
 * with {@link finishDeliveryTrace}. A bound store whose `run` throws is skipped (reported once on
 * stderr): observers never stop a delivery.
 */
export function traceDelivery<T>(
  entryPoint: DeliveryChannelMessage['entryPoint'],
  run: (message: DeliveryChannelMessage | undefined) => T,
  link?: TraceContext,
): T {
  const active = listeningChannel();
  if (active === undefined) return run(undefined);
  const message: DeliveryChannelMessage = link === undefined ? { entryPoint, startTime: Date.now() } : { entryPoint, startTime: Date.now(), link };
  // What the delivery did inside the tracers' bound stores, read when a store itself throws.
  const ran: { state: 'not run' | 'returned' | 'threw'; result?: T } = { state: 'not run' };
  try {
    return active.start.runStores(
      message,
      (traced: DeliveryChannelMessage) => {
        ran.state = 'threw';
        ran.result = run(traced);
        ran.state = 'returned';
        return ran.result;
      },
      undefined,
      message,
    );
  } catch (error) {
    // A tracer's bound store that throws must not stop the delivery nor replace its result.
    if (ran.state === 'threw') throw error;
    reportStoreFailure(error);
    return ran.state === 'returned' ? (ran.result as T) : run(message);
  } finally {
    active.end.publish(message);
  }
}

/** The channel's view of a decrypted event: identifiers only. */
function channelEvent(event: KompliantEvent<unknown>): DeliveryChannelEvent {
  return {
    id: event.id,
    event_type: event.event_type,
    account_id: event.account_id,
    key_id: event.key_id,
    timestamp: event.timestamp,
    retry_count: event.retry_count,
  };
}

/** Records the decrypted event on the message as soon as it is known. */
export function traceEvent(message: DeliveryChannelMessage | undefined, event: KompliantEvent<unknown>): void {
  if (message !== undefined && message.event === undefined) message.event = channelEvent(event);
}

/**
 * Finishes a traced delivery once: sets the outcome (and the error), publishes `error` for a
 * failure, then `asyncStart` and `asyncEnd`. A no-op without a message or when already finished.
 */
export function finishDeliveryTrace(
  message: DeliveryChannelMessage | undefined,
  outcome: WebhookOutcome,
  event: KompliantEvent<unknown> | undefined,
  error?: WebhookError,
): void {
  if (message === undefined || message.outcome !== undefined || channel === undefined) return;
  if (event !== undefined) traceEvent(message, event);
  message.outcome = outcome;
  message.status = error === undefined ? 200 : error.status;
  if (error !== undefined) {
    message.code = error.code;
    message.error = error;
    channel.error.publish(message);
  }
  channel.asyncStart.publish(message);
  channel.asyncEnd.publish(message);
}
