// Delivery counters: the stats sink contract and the in-process `createWebhookStats` implementation.
import type { WebhookErrorCode } from '../wire/errors.js';

/**
 * The counters a receiver reports:
 * - `received`: requests (or `handle()` calls) that reached the receiver;
 * - `handled`: events the handler finished (or, in pass-through mode, answered with a 2xx; for
 *   `receiver.receive()`, events returned to the caller);
 * - `duplicate`: deliveries of an id already done (answered 200, handler not called);
 * - `rejected`: every error answer, with its `code`;
 * - `key_store_lookup`: calls to the key store's `getSecret`;
 * - `observer_error`: calls to the `logger` or `onError` that threw or rejected (ignored: an
 *   observer never changes an answer; the first of each kind is logged once);
 * - `wire_format_detected`: envelopes that failed to open (DECRYPTION_FAILED) with a key the
 *   store holds, but open with another `layout` / `aad` (logged once at error level: the
 *   receiver never switches by itself; see the `diagnoseWireFormat` option).
 *
 * Each increment carries the envelope's `account_id` when it is known (third argument).
 */
export type WebhookCounter = 'received' | 'handled' | 'duplicate' | 'rejected' | 'key_store_lookup' | 'observer_error' | 'wire_format_detected';

/**
 * A sink for counters: pass your own to feed Prometheus/StatsD, or use
 * {@link createWebhookStats} for a small in-memory one.
 *
 * @example
 * ```ts
 * const stats: WebhookStatsSink = {
 *   increment(counter, code) { promCounter.inc({ counter, code: code ?? '' }); },
 * };
 * ```
 */
export interface WebhookStatsSink {
  /**
   * Counts one occurrence. `code` is set for `rejected`; `context.accountId` is the envelope's
   * `account_id` once the envelope passed validation (unauthenticated for rejections before
   * decryption), so a receiver serving several accounts can count per account.
   */
  increment(counter: WebhookCounter, code?: WebhookErrorCode, context?: { accountId?: string }): void;
}

/** A point-in-time copy of {@link WebhookStats}. */
export interface WebhookStatsSnapshot {
  received: number;
  handled: number;
  duplicate: number;
  /** Rejections by error code (only codes that occurred). */
  rejected: Partial<Record<WebhookErrorCode, number>>;
  keyStoreLookups: number;
  /** Key-store calls by account id (only accounts that occurred). */
  keyStoreLookupsByAccount: Record<string, number>;
  /** Observer failures: a `logger` or `onError` call that threw or rejected (counter `observer_error`). */
  observerErrors: number;
  /** Envelopes that open with another `layout` / `aad` than the configured ones (counter `wire_format_detected`). */
  wireFormatDetected: number;
}

/** In-memory counters; hand it to the `stats` option and read {@link WebhookStats.snapshot}. */
export interface WebhookStats extends WebhookStatsSink {
  snapshot(): WebhookStatsSnapshot;
}

/**
 * Creates in-memory counters for the `stats` option.
 *
 * @example
 * ```ts
 * const stats = createWebhookStats();
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, onEvent, stats }));
 * app.get('/metrics/kompliant', (_req, res) => res.json(stats.snapshot()));
 * ```
 */
export function createWebhookStats(): WebhookStats {
  let received = 0;
  let handled = 0;
  let duplicate = 0;
  let keyStoreLookups = 0;
  let observerErrors = 0;
  let wireFormatDetected = 0;
  const rejected = new Map<WebhookErrorCode, number>();
  const lookupsByAccount = new Map<string, number>();
  return {
    increment(counter, code, context) {
      if (counter === 'received') received++;
      else if (counter === 'handled') handled++;
      else if (counter === 'duplicate') duplicate++;
      else if (counter === 'key_store_lookup') {
        keyStoreLookups++;
        const accountId = context?.accountId;
        if (typeof accountId === 'string') lookupsByAccount.set(accountId, (lookupsByAccount.get(accountId) ?? 0) + 1);
      }
      else if (counter === 'rejected' && code !== undefined) rejected.set(code, (rejected.get(code) ?? 0) + 1);
      else if (counter === 'observer_error') observerErrors++;
      else if (counter === 'wire_format_detected') wireFormatDetected++;
    },
    snapshot() {
      return {
        received,
        handled,
        duplicate,
        rejected: Object.fromEntries(rejected),
        keyStoreLookups,
        keyStoreLookupsByAccount: Object.fromEntries(lookupsByAccount),
        observerErrors,
        wireFormatDetected,
      };
    },
  };
}

/** Checks the `stats` option: undefined or an object with an `increment` function. */
export function checkStats(value: unknown, name = 'stats'): WebhookStatsSink | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as WebhookStatsSink).increment !== 'function') {
    throw new TypeError(`${name} must be an object with an increment(counter, code) method`);
  }
  return value as WebhookStatsSink;
}

/** Calls the sink, ignoring anything it throws. */
export function countStat(
  stats: WebhookStatsSink | undefined,
  counter: WebhookCounter,
  code?: WebhookErrorCode,
  accountId?: string,
): void {
  if (stats === undefined) return;
  try {
    if (accountId !== undefined) stats.increment(counter, code, { accountId });
    else if (code === undefined) stats.increment(counter);
    else stats.increment(counter, code);
  } catch {
    // Metrics must never change an answer.
  }
}
