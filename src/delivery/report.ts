// Reports how a delivery ended: one counter and one log line each, at info, warn (4xx) or error (5xx), and the end of its channel message.
import type { WebhookError } from '../wire/errors.js';
import type { EnvelopeMetadata, KompliantEvent } from '../wire/event.js';
import { finishDeliveryTrace, type DeliveryChannelMessage } from './channel.js';
import { envelopeLogFields, eventLogFields, handlerErrorField, writeLog, type WebhookLogFields, type WebhookOutcome } from './logger.js';
import type { ResolvedDeliveryOptions } from './options.js';
import { countStat } from './stats.js';

const elapsed = (started: number): number => Math.round(performance.now() - started);

/**
 * Counts and logs (at info) a delivery that ended well. `started` is a `performance.now()`;
 * `trace` the delivery's channel message, when anybody listens.
 */
export function reportDelivered(
  plan: ResolvedDeliveryOptions,
  started: number,
  outcome: 'handled' | 'passed' | 'duplicate',
  event: KompliantEvent<unknown>,
  trace?: DeliveryChannelMessage,
): void {
  finishDeliveryTrace(trace, outcome, event);
  countStat(plan.stats, outcome === 'duplicate' ? 'duplicate' : 'handled', undefined, event.account_id);
  if (!plan.logsDelivered) return;
  writeLog(plan.logger, 'info', { ...eventLogFields(event), duration: elapsed(started), outcome }, `kompliant webhook ${outcome}`);
}

/**
 * Counts and logs a delivery that ended in `error`: warn for 4xx, error for 5xx. `event` is
 * given once the envelope decrypted; before that `envelope`, the identifiers of an envelope that
 * passed the envelope rules, is logged (unauthenticated), else only the code. A HANDLER_FAILED
 * with a cause carries the handler's error message and stack; an IDEMPOTENCY_STORE_UNAVAILABLE
 * the store's error message.
 */
export function reportRejected(
  plan: ResolvedDeliveryOptions,
  started: number,
  error: WebhookError,
  event?: KompliantEvent<unknown>,
  trace?: DeliveryChannelMessage,
  envelope?: EnvelopeMetadata,
): void {
  const outcome: WebhookOutcome =
    error.code === 'HANDLER_TIMEOUT' ? 'timeout' : error.code === 'HANDLER_FAILED' ? 'failed' : 'rejected';
  finishDeliveryTrace(trace, outcome, event, error);
  countStat(plan.stats, 'rejected', error.code, event?.account_id ?? envelope?.account_id);
  if (plan.logger === undefined) return;
  const fields: WebhookLogFields = {
    ...(event !== undefined ? eventLogFields(event) : envelope !== undefined ? envelopeLogFields(envelope) : {}),
    code: error.code,
    reason: error.message,
    duration: elapsed(started),
    outcome,
  };
  if (error.code === 'HANDLER_FAILED' && error.cause !== undefined) fields.handler_error = handlerErrorField(error.cause);
  if (error.code === 'IDEMPOTENCY_STORE_UNAVAILABLE' && error.cause !== undefined) fields.store_error = { message: handlerErrorField(error.cause).message };
  writeLog(plan.logger, error.status >= 500 ? 'error' : 'warn', fields, `kompliant webhook ${outcome}: ${error.code}`);
}
