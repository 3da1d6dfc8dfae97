// The logger used when no `logger` option is given: rejections and failures on stderr through console, one line per code per 10 s.
import { WEBHOOK_ERROR_STATUS, WebhookError, type WebhookErrorCode } from '../wire/errors.js';
import type { WebhookLogFields, WebhookLogger } from './logger.js';

/** Shortest time between two default log lines for the same error code: 10 s. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

/** What to check, by code, for the codes whose cause is a configuration or handler problem. */
const HINTS: Partial<Record<WebhookErrorCode, string>> = {
  UNKNOWN_KEY: 'the key store has no secret for this key_id of this account',
  DECRYPTION_FAILED:
    "the key store's secret for this key_id is not the sender's, the envelope was altered, or the layout / aad options differ from the sender's (then a 'wire format detected' line follows, unless diagnoseWireFormat is false)",
  INVALID_KEY: 'the stored secret for this key_id is not base64 of 32 bytes',
  KEY_STORE_UNAVAILABLE: 'the key store failed; the sender will retry',
  IDEMPOTENCY_STORE_UNAVAILABLE:
    'the idempotency store failed or missed idempotencyTimeoutMs before the handler ran (check the store and its connection); the handler did not run and the sender will retry',
  HANDLER_TIMEOUT: 'the handler outlived handlerTimeoutMs; the sender will retry',
  PAYLOAD_TOO_LARGE: 'the body is over maxBodyBytes (or a body parser in front has a smaller limit)',
};

// The reasons (WebhookError messages) whose cause is not what the code alone suggests, each with
// what to do. The texts are the library's own messages, set where these failures happen.
const NOT_RETRIED_YET = 'the event is not acknowledged, so the sender will retry it';
const REASON_HINTS: ReadonlyMap<string, string> = new Map([
  [
    'account not served',
    "the envelope's account_id is not in the receiver's `accounts` option, so the key store was not asked; add the account to `accounts` if this receiver serves it",
  ],
  [
    'No onEvent handler and no next()',
    `plain node:http has no route after the middleware to hand the event to: give kompliantWebhook an onEvent handler; ${NOT_RETRIED_YET}`,
  ],
]);

/** The hint for a pass-through whose application answered `status` (no onEvent: the route after the middleware answers). */
function applicationAnswerHint(status: number): string {
  if (status === 404) {
    return (
      'no route after the middleware answered this request: check that the route is app.post (not app.get or app.use of another method) ' +
      `at the path the sender calls, that it answers 2xx, or give the middleware an onEvent handler; ${NOT_RETRIED_YET}`
    );
  }
  return `the route after the middleware answered ${status}, not 2xx (it threw, or answered an error); ${NOT_RETRIED_YET}`;
}

const APPLICATION_ANSWERED = /^Application answered (\d{3})$/;

/** The status the sender got: the code's, or in pass-through what the application answered (Express's 404 when no route took the event). */
function answeredStatus(code: WebhookErrorCode, reason: string | undefined): number {
  const answered = reason === undefined ? null : APPLICATION_ANSWERED.exec(reason);
  return answered === null ? WEBHOOK_ERROR_STATUS[code] : Number(answered[1]);
}

/** Finds where a key store looked for (key id, account id); see KeyStore.describe. */
export type KeyLookupDescriber = (keyId: string, accountId: string) => string | undefined;

/** What a line says after the code and identifiers: the reason (when it adds to the code) and what to do. */
function explain(fields: WebhookLogFields, describeLookup: KeyLookupDescriber | undefined): string {
  const { code, reason } = fields;
  if (code === undefined) return '';
  const ownReason = reason !== undefined && reason !== new WebhookError(code).message ? reason : undefined;
  const cause = fields.handler_error;
  // The handler's own throw; with another reason (the idempotency store, a payload schema) the error is that one's.
  if (cause !== undefined && ownReason === undefined) return `: handler threw: ${cause.message}`;
  const answered = ownReason === undefined ? null : APPLICATION_ANSWERED.exec(ownReason);
  let hint = ownReason === undefined ? HINTS[code] : answered !== null ? applicationAnswerHint(Number(answered[1])) : REASON_HINTS.get(ownReason);
  if (fields.message_id !== undefined) hint = 'the queue record can never be valid: acknowledged and dropped, not retried';
  if (code === 'UNKNOWN_KEY' && ownReason === undefined && fields.key_id !== undefined && fields.account_id !== undefined) {
    const looked = describeLookup?.(fields.key_id, fields.account_id);
    if (looked !== undefined) hint = `${hint} (${looked})`;
  }
  const parts = [cause === undefined || ownReason === undefined ? ownReason : `${ownReason} (${cause.message})`, hint].filter((part) => part !== undefined);
  return parts.length === 0 ? '' : `: ${parts.join('; ')}`;
}

function describe(fields: WebhookLogFields): string {
  const ids = (['message_id', 'key_id', 'account_id', 'id', 'event_type'] as const)
    .filter((name) => fields[name] !== undefined)
    .map((name) => `${name}=${fields[name]}`);
  return ids.length === 0 ? '' : ` (${ids.join(' ')})`;
}

/**
 * Creates the default logger: `debug` and `info` print nothing; `warn` and `error` print one
 * line through `console.warn` / `console.error`, at most one per error code per `intervalMs`; the
 * next line printed for a code says how many were suppressed. A line names the code, the
 * identifiers (message_id, key_id, account_id, id, event_type), the reason when it says more than the code
 * (`Application answered 404`, `account not served`), what to
 * check, and for HANDLER_FAILED the handler's error message and stack. For UNKNOWN_KEY it adds
 * where the key store looked, from `describeLookup` (the key store's `describe`, when it has
 * one); for IDEMPOTENCY_STORE_UNAVAILABLE the store's error message. `now` is for tests.
 */
export function createDefaultLogger(
  intervalMs = DEFAULT_LOG_INTERVAL_MS,
  now: () => number = Date.now,
  describeLookup?: KeyLookupDescriber,
): WebhookLogger {
  const lastPrinted = new Map<string, number>();
  const suppressed = new Map<string, number>();
  const print = (level: 'warn' | 'error', fields: WebhookLogFields, message: string): void => {
    const key = fields.code ?? message;
    const at = now();
    const last = lastPrinted.get(key);
    if (last !== undefined && at - last < intervalMs) {
      suppressed.set(key, (suppressed.get(key) ?? 0) + 1);
      return;
    }
    lastPrinted.set(key, at);
    const skipped = suppressed.get(key) ?? 0;
    suppressed.delete(key);
    const cause = fields.handler_error;
    const what = fields.code === undefined ? message : `${fields.outcome ?? 'rejected'} ${answeredStatus(fields.code, fields.reason)} ${fields.code}`;
    let line = `kompliant-webhooks: ${what}${describe(fields)}${explain(fields, describeLookup)}`;
    if (fields.store_error !== undefined) line += `: store said: ${fields.store_error.message}`;
    if (skipped > 0) line += ` [${skipped} more ${fields.code ?? 'like this'} in the last ${Math.round((at - (last ?? at)) / 1000)} s not printed]`;
    if (cause?.stack !== undefined) line += `\n${cause.stack}`;
    console[level](line);
  };
  return {
    debug() {},
    info() {},
    warn: (fields, message) => print('warn', fields, message),
    error: (fields, message) => print('error', fields, message),
  };
}
