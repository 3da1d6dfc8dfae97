// Reports how a delivery ended: one counter and one log line each, at info, warn (4xx) or error (5xx).
import type { WebhookError } from '../wire/errors.js';
import type { KompliantEvent } from '../wire/event.js';
import { eventLogFields, writeLog, type WebhookOutcome } from './logger.js';
import type { DeliveryPlan } from './options.js';
import { countStat } from './stats.js';

const elapsed = (started: number): number => Math.round(performance.now() - started);

/** Counts and logs (at info) a delivery that ended well. `started` is a `performance.now()`. */
export function reportDelivered(
  plan: DeliveryPlan,
  started: number,
  outcome: 'handled' | 'passed' | 'duplicate',
  event: KompliantEvent<unknown>,
): void {
  countStat(plan.stats, outcome === 'duplicate' ? 'duplicate' : 'handled', undefined, event.account_id);
  if (plan.logger === undefined) return;
  writeLog(plan.logger, 'info', { ...eventLogFields(event), duration: elapsed(started), outcome }, `kompliant webhook ${outcome}`);
}

/**
 * Counts and logs a delivery that ended in `error`: warn for 4xx, error for 5xx. `event` is
 * given once the envelope decrypted; before that only the code is logged.
 */
export function reportRejected(plan: DeliveryPlan, started: number, error: WebhookError, event?: KompliantEvent<unknown>): void {
  countStat(plan.stats, 'rejected', error.code, event?.account_id);
  if (plan.logger === undefined) return;
  const outcome: WebhookOutcome =
    error.code === 'HANDLER_TIMEOUT' ? 'timeout' : error.code === 'HANDLER_FAILED' ? 'failed' : 'rejected';
  const fields = { ...(event === undefined ? {} : eventLogFields(event)), code: error.code, duration: elapsed(started), outcome };
  writeLog(plan.logger, error.status >= 500 ? 'error' : 'warn', fields, `kompliant webhook ${outcome}: ${error.code}`);
}
