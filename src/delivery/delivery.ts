import { randomUUID } from 'node:crypto';
import { WebhookError } from './errors.js';
import {
  checkIdempotencyStore,
  DEFAULT_IDEMPOTENCY_LEASE_MS,
  DEFAULT_IDEMPOTENCY_TTL_MS,
  type IdempotencyStore,
} from './idempotency.js';
import { memoryIdempotencyStore } from './idempotency/memory.js';
import type { KompliantEvent } from './event.js';
import type { KeyStore } from './key-store.js';
import { checkLogger, eventLogFields, writeLog, type WebhookLogger, type WebhookOutcome } from './logger.js';
import { checkPositiveInteger } from './options.js';
import { checkStats, countStat, type WebhookStatsSink } from './stats.js';

/** Default time a handler may run before the answer is 503 HANDLER_TIMEOUT: 25 s. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 25_000;

/** Delivery options shared by the receiver and every HTTP adapter. */
export interface DeliveryOptions {
  /**
   * Deduplication by envelope `id`. Default: a fresh `memoryIdempotencyStore()` per receiver.
   * Pass a shared store (`redisIdempotencyStore`) when several instances receive, or `false`
   * to turn deduplication off (every delivery then reaches the handler).
   */
  idempotency?: IdempotencyStore | false;
  /** How long a claim holds while the handler runs. Default 60 000 ms (the sender waits 30 s). */
  idempotencyLeaseMs?: number;
  /** How long a done id is remembered. Default 7 days (the sender's retry horizon). */
  idempotencyTtlMs?: number;
  /**
   * Longest a handler may run before the answer is `503 HANDLER_TIMEOUT` (so the answer beats the
   * sender's 30 s timeout). The claim stays in progress until the handler really settles, so the
   * retry gets 409 instead of a second run. Default 25 000 ms.
   */
  handlerTimeoutMs?: number;
  /**
   * Rejects authenticated events whose `timestamp` is older than this (400 INVALID_ENVELOPE).
   * Off by default: legitimate retries keep arriving for days, and replay protection is the
   * deduplication by `id`, not a time window.
   */
  maxEventAgeMs?: number;
  /** A pino/console-like logger for one structured line per delivery. Default: none. */
  logger?: WebhookLogger;
  /** A counter sink such as `createWebhookStats()`. Default: none. */
  stats?: WebhookStatsSink;
}

/** Names of {@link DeliveryOptions}, appended to each entry point's option list. */
export const DELIVERY_OPTION_NAMES: readonly string[] = [
  'idempotency',
  'idempotencyLeaseMs',
  'idempotencyTtlMs',
  'handlerTimeoutMs',
  'maxEventAgeMs',
  'logger',
  'stats',
];

/** {@link DeliveryOptions} after checking. */
export interface DeliveryPlan {
  store: IdempotencyStore | undefined;
  leaseMs: number;
  ttlMs: number;
  handlerTimeoutMs: number;
  maxEventAgeMs: number | undefined;
  logger: WebhookLogger | undefined;
  stats: WebhookStatsSink | undefined;
}

/** Checks the delivery options once; a bad one throws a TypeError naming it. */
export function resolveDeliveryOptions(options: DeliveryOptions): DeliveryPlan {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  return {
    store: options.idempotency === false ? undefined : options.idempotency === undefined ? memoryIdempotencyStore() : checkIdempotencyStore(options.idempotency),
    leaseMs: checkPositiveInteger(options.idempotencyLeaseMs, 'idempotencyLeaseMs', DEFAULT_IDEMPOTENCY_LEASE_MS),
    ttlMs: checkPositiveInteger(options.idempotencyTtlMs, 'idempotencyTtlMs', DEFAULT_IDEMPOTENCY_TTL_MS),
    handlerTimeoutMs: checkPositiveInteger(options.handlerTimeoutMs, 'handlerTimeoutMs', DEFAULT_HANDLER_TIMEOUT_MS),
    maxEventAgeMs: options.maxEventAgeMs === undefined ? undefined : checkPositiveInteger(options.maxEventAgeMs, 'maxEventAgeMs', 0),
    logger: checkLogger(options.logger),
    stats: checkStats(options.stats),
  };
}

/**
 * Throws 400 INVALID_ENVELOPE when `maxEventAgeMs` is set and the (authenticated) timestamp is
 * older than that.
 */
export function checkEventAge(plan: DeliveryPlan, timestamp: string, now = Date.now()): void {
  if (plan.maxEventAgeMs === undefined) return;
  if (now - Date.parse(timestamp) > plan.maxEventAgeMs) {
    throw new WebhookError('INVALID_ENVELOPE', { message: 'Event is older than maxEventAgeMs' });
  }
}

/** A claim this delivery holds; settle it exactly once. */
export interface HeldClaim {
  /** Marks the id done (`true`) or releases it for a retry (`false`). Never rejects. */
  settle(success: boolean): Promise<void>;
}

/**
 * Claims the event id. Resolves `'duplicate'` when it is already done, a {@link HeldClaim}
 * when this delivery now owns it; throws 409 DUPLICATE_IN_PROGRESS while another delivery
 * holds it, and 500 HANDLER_FAILED when the store itself fails (the sender retries).
 * Call only after decryption succeeded: unauthenticated ids never reach the store.
 */
export async function claimDelivery(plan: DeliveryPlan, id: string): Promise<'duplicate' | HeldClaim> {
  const store = plan.store;
  if (store === undefined) return { settle: () => Promise.resolve() };
  const token = randomUUID();
  let result: unknown;
  try {
    result = await store.claim(id, token, plan.leaseMs);
  } catch (cause) {
    throw new WebhookError('HANDLER_FAILED', { message: 'Idempotency store unavailable', cause });
  }
  if (result === 'done') return 'duplicate';
  if (result === 'in_progress') throw new WebhookError('DUPLICATE_IN_PROGRESS');
  if (result !== 'claimed') throw new WebhookError('HANDLER_FAILED', { message: 'Idempotency store unavailable' });
  let settled = false;
  return {
    async settle(success) {
      if (settled) return;
      settled = true;
      try {
        if (success) await store.complete(id, token, plan.ttlMs);
        else await store.release(id, token);
      } catch {
        // The lease expires on its own; a failed complete means a later retry may run again.
      }
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Releases the claim, then rejects with HANDLER_FAILED carrying the handler's error. */
async function failClaimed(claim: HeldClaim, cause: unknown): Promise<never> {
  await claim.settle(false);
  throw new WebhookError('HANDLER_FAILED', { cause });
}

/**
 * Runs `handler` for a claimed id with the handler timeout: resolves once it finished and the id
 * is marked done; throws HANDLER_FAILED (claim released) or HANDLER_TIMEOUT (claim kept until
 * the handler really settles, then marked done or released). A handler that returns without a
 * promise has already finished, so no timer is armed for it.
 */
export function runClaimed(plan: DeliveryPlan, claim: HeldClaim, handler: () => unknown): Promise<void> {
  let returned: unknown;
  try {
    returned = handler();
  } catch (cause) {
    return failClaimed(claim, cause);
  }
  if (!isThenable(returned)) return claim.settle(true);
  const finished = (async () => {
    try {
      await returned;
    } catch (cause) {
      return failClaimed(claim, cause);
    }
    return claim.settle(true);
  })();
  // One promise settled by whichever comes first (no race over a second timeout promise).
  // After a timeout nobody waits for `finished`; its rejection is still handled here.
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WebhookError('HANDLER_TIMEOUT')), plan.handlerTimeoutMs);
    finished.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Wraps a key store so each lookup is counted (unchanged when no `stats` sink is set). */
export function countingKeyStore(keyStore: KeyStore, plan: DeliveryPlan): KeyStore {
  if (plan.stats === undefined) return keyStore;
  return {
    getSecret(keyId) {
      countStat(plan.stats, 'key_store_lookup');
      return keyStore.getSecret(keyId);
    },
  };
}

const elapsed = (started: number): number => Math.round(performance.now() - started);

/** Counts and logs (at info) a delivery that ended well. `started` is a `performance.now()`. */
export function reportDelivered(
  plan: DeliveryPlan,
  started: number,
  outcome: 'handled' | 'passed' | 'duplicate',
  event: KompliantEvent<unknown>,
): void {
  countStat(plan.stats, outcome === 'duplicate' ? 'duplicate' : 'handled');
  if (plan.logger === undefined) return;
  writeLog(plan.logger, 'info', { ...eventLogFields(event), duration: elapsed(started), outcome }, `kompliant webhook ${outcome}`);
}

/**
 * Counts and logs a delivery that ended in `error`: warn for 4xx, error for 5xx. `event` is
 * given once the envelope decrypted; before that only the code is logged.
 */
export function reportRejected(plan: DeliveryPlan, started: number, error: WebhookError, event?: KompliantEvent<unknown>): void {
  countStat(plan.stats, 'rejected', error.code);
  if (plan.logger === undefined) return;
  const outcome: WebhookOutcome =
    error.code === 'HANDLER_TIMEOUT' ? 'timeout' : error.code === 'HANDLER_FAILED' ? 'failed' : 'rejected';
  const fields = { ...(event === undefined ? {} : eventLogFields(event)), code: error.code, duration: elapsed(started), outcome };
  writeLog(plan.logger, error.status >= 500 ? 'error' : 'warn', fields, `kompliant webhook ${outcome}: ${error.code}`);
}
