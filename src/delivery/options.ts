// The delivery options (deduplication, leases, handler timeout, event age, logs, counters), checked once into a plan.
import {
  checkIdempotencyStore,
  DEFAULT_IDEMPOTENCY_LEASE_MS,
  DEFAULT_IDEMPOTENCY_TIMEOUT_MS,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  type IdempotencyStore,
} from '../idempotency/idempotency-store.js';
import { memoryIdempotencyStore } from '../idempotency/memory.js';
import { checkPositiveInteger } from '../options/checks.js';
import { optionNames } from '../options/option-names.js';
import { describeKeyLookup } from '../key-stores/key-store.js';
import { createDefaultLogger, DEFAULT_LOG_INTERVAL_MS } from './default-logger.js';
import { checkLogger, type WebhookLogger } from './logger.js';
import { checkStats, type WebhookStatsSink } from './stats.js';
import { createObserverReport, safeLogger, safeStats, type ObserverFailed } from './observers.js';

/** Default time a handler may run before the answer is 503 HANDLER_TIMEOUT: 25 s. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 25_000;

/** Default time one delivery may take from its first byte to the answer: 25 s (the sender waits 30 s). */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 25_000;

/** Delivery options shared by the receiver and every HTTP adapter. */
export interface DeliveryOptions {
  /**
   * Deduplication by envelope `id`. Default: a fresh `memoryIdempotencyStore()` per receiver.
   * Pass a shared store (`redisIdempotencyStore`) when several instances receive, or `false`
   * to turn deduplication off (every delivery then reaches the handler).
   */
  idempotency?: IdempotencyStore | false;
  /**
   * How long a claim holds if its holder stops renewing it (a crashed process). While the handler
   * runs within `deliveryTimeoutMs`, a shared store's claim is renewed every third of this and the
   * memory store holds it; a handler still running after that keeps its id one lease more, then a
   * retry runs the event again. Default 60 000 ms.
   */
  idempotencyLeaseMs?: number;
  /** How long a done id is remembered. Default 7 days (the sender's retry horizon). */
  idempotencyTtlMs?: number;
  /**
   * Deadline of every idempotency-store call (claim, renew, complete, release). A claim that fails
   * or misses it is answered `503 IDEMPOTENCY_STORE_UNAVAILABLE` before the handler runs; a completion that fails
   * or misses it after the handler succeeded is still a 200 (the work is done), logged at warn,
   * and the claim's lease then expires on its own. Default 2000 ms. The default memory store
   * answers within the call (it never waits), so its calls need no deadline and arm no timer.
   */
  idempotencyTimeoutMs?: number;
  /**
   * Longest a handler may run before the answer is `503 HANDLER_TIMEOUT`, within what is left of
   * `deliveryTimeoutMs`. The claim stays held (renewed) while the delivery time lasts, so a retry
   * meanwhile gets 409 instead of a second run. Default 25 000 ms.
   */
  handlerTimeoutMs?: number;
  /**
   * One deadline for the whole delivery, from its first byte to the answer: key lookup, claim,
   * schema check and handler each get what is left of it (capped by `keyStoreTimeoutMs`,
   * `idempotencyTimeoutMs` and `handlerTimeoutMs`), and the answer is written before it ends
   * (503 HANDLER_TIMEOUT while the schema or handler still runs). A claim is renewed only until
   * it ends; a handler still running then loses its id one lease later, so a retry runs the event
   * again. On Lambda and SQS the invocation's remaining time (minus `invocationMarginMs`) caps
   * it. Default 25 000 ms; the HTTP adapters refuse 30 000 or more (the sender gives up at 30 s).
   */
  deliveryTimeoutMs?: number;
  /**
   * Rejects authenticated events whose `timestamp` is older than this (400 INVALID_ENVELOPE).
   * Off by default: legitimate retries keep arriving for days, and replay protection is the
   * deduplication by `id`, not a time window.
   */
  maxEventAgeMs?: number;
  /**
   * A pino/console-like logger for one structured line per delivery (info when it ended well,
   * warn for a 4xx, error for a 5xx). Default: rejections and failures only, on stderr through
   * `console.warn` / `console.error`, at most one line per error code per 10 s. `false`: no
   * lines at all.
   */
  logger?: WebhookLogger | false;
  /** A counter sink such as `createWebhookStats()`. Default: none. */
  stats?: WebhookStatsSink;
}

/** Names of {@link DeliveryOptions}, appended to each entry point's option list. */
export const DELIVERY_OPTION_NAMES: readonly string[] = optionNames<DeliveryOptions>({
  idempotency: true,
  idempotencyLeaseMs: true,
  idempotencyTtlMs: true,
  idempotencyTimeoutMs: true,
  handlerTimeoutMs: true,
  deliveryTimeoutMs: true,
  maxEventAgeMs: true,
  logger: true,
  stats: true,
});

/** {@link DeliveryOptions} after checking. */
export interface ResolvedDeliveryOptions {
  store: IdempotencyStore | undefined;
  leaseMs: number;
  ttlMs: number;
  storeTimeoutMs: number;
  handlerTimeoutMs: number;
  deliveryTimeoutMs: number;
  /** When this delivery's time ends (`Date.now()` ms); set per delivery by {@link forDelivery}. */
  endsAt?: number;
  maxEventAgeMs: number | undefined;
  /** Where delivery lines go: the `logger` option, the default stderr logger, or none (`logger: false`). */
  logger: WebhookLogger | undefined;
  /** False for the default logger, which prints nothing for deliveries that ended well. */
  logsDelivered: boolean;
  stats: WebhookStatsSink | undefined;
  /**
   * Where an observer's failure goes (counted on `stats`, the first of each kind logged once).
   * `logger` and `stats` above are already guarded with it; entry points guard `onError` too.
   */
  observerFailed: ObserverFailed;
}

/** Checks the delivery options once; a bad one throws a TypeError naming it. */
export function resolveDeliveryOptions(options: DeliveryOptions): ResolvedDeliveryOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  // Observers never change an answer: the logger and stats sink are used through guards that
  // catch what they throw (or reject with), count it and log the first failure of each kind.
  const stats = checkStats(options.stats);
  let logger: WebhookLogger | undefined;
  const observerFailed = createObserverReport(stats, () => logger);
  logger = safeLogger(options.logger === false ? undefined : options.logger === undefined ? defaultLogger(options) : checkLogger(options.logger), observerFailed);
  const store =
    options.idempotency === false ? undefined : options.idempotency === undefined ? memoryIdempotencyStore() : checkIdempotencyStore(options.idempotency);
  return {
    store,
    leaseMs: checkPositiveInteger(options.idempotencyLeaseMs, 'idempotencyLeaseMs', DEFAULT_IDEMPOTENCY_LEASE_MS),
    ttlMs: checkPositiveInteger(options.idempotencyTtlMs, 'idempotencyTtlMs', DEFAULT_IDEMPOTENCY_TTL_MS),
    storeTimeoutMs: checkPositiveInteger(options.idempotencyTimeoutMs, 'idempotencyTimeoutMs', DEFAULT_IDEMPOTENCY_TIMEOUT_MS),
    handlerTimeoutMs: checkPositiveInteger(options.handlerTimeoutMs, 'handlerTimeoutMs', DEFAULT_HANDLER_TIMEOUT_MS),
    deliveryTimeoutMs: checkPositiveInteger(options.deliveryTimeoutMs, 'deliveryTimeoutMs', DEFAULT_DELIVERY_TIMEOUT_MS),
    maxEventAgeMs: options.maxEventAgeMs === undefined ? undefined : checkPositiveInteger(options.maxEventAgeMs, 'maxEventAgeMs', 0),
    logger,
    logsDelivered: options.logger !== undefined && options.logger !== false,
    stats: safeStats(stats, observerFailed),
    observerFailed,
  };
}

/** The default logger; its UNKNOWN_KEY lines say where the receiver's `keyStore` looked, when the store can tell (`describe`). */
function defaultLogger(options: DeliveryOptions): WebhookLogger {
  const { keyStore } = options as { keyStore?: unknown };
  return createDefaultLogger(DEFAULT_LOG_INTERVAL_MS, Date.now, (keyId, accountId) => describeKeyLookup(keyStore, keyId, accountId));
}

/**
 * The plan of one delivery starting now: it ends `deliveryTimeoutMs` from now, or sooner when the
 * caller has a deadline of its own (`capMs`, a Lambda invocation's remaining time).
 */
export function forDelivery(plan: ResolvedDeliveryOptions, capMs: number | undefined): ResolvedDeliveryOptions {
  const ms = capMs === undefined ? plan.deliveryTimeoutMs : Math.min(plan.deliveryTimeoutMs, capMs);
  return { ...plan, endsAt: Date.now() + ms };
}

/**
 * How long one step may wait: its own cap (`stepMs`), or what is left of the delivery when that is
 * less (at least 1 ms, so a step reached after the end fails at once with its own code).
 */
export function timeLeft(plan: ResolvedDeliveryOptions, stepMs: number): number {
  if (plan.endsAt === undefined) return stepMs;
  return Math.max(1, Math.min(stepMs, plan.endsAt - Date.now()));
}
