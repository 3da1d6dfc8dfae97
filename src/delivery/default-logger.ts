// The logger used when no `logger` option is given: rejections and failures on stderr through console, one line per code per 10 s.
import { WEBHOOK_ERROR_STATUS, type WebhookErrorCode } from '../wire/errors.js';
import type { WebhookLogFields, WebhookLogger } from './logger.js';

/** Shortest time between two default log lines for the same error code: 10 s. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

/** What to check, by code, for the codes whose cause is a configuration or handler problem. */
const HINTS: Partial<Record<WebhookErrorCode, string>> = {
  UNKNOWN_KEY: 'the key store has no secret for this key_id',
  DECRYPTION_FAILED: "the key store's secret for this key_id is not the sender's (or the envelope was altered); `npx kompliant-webhooks detect` checks a captured envelope",
  INVALID_KEY: 'the stored secret for this key_id is not base64 of 32 bytes',
  KEY_STORE_UNAVAILABLE: 'the key store failed; the sender will retry',
  IDEMPOTENCY_STORE_UNAVAILABLE:
    'the idempotency store failed or missed idempotencyTimeoutMs before the handler ran (check the store and its connection); the handler did not run and the sender will retry',
  HANDLER_TIMEOUT: 'the handler outlived handlerTimeoutMs; the sender will retry',
  PAYLOAD_TOO_LARGE: 'the body is over maxBodyBytes (or a body parser in front has a smaller limit)',
};

function describe(fields: WebhookLogFields): string {
  const ids = (['key_id', 'account_id', 'id', 'event_type'] as const)
    .filter((name) => fields[name] !== undefined)
    .map((name) => `${name}=${fields[name]}`);
  return ids.length === 0 ? '' : ` (${ids.join(' ')})`;
}

/**
 * Creates the default logger: `debug` and `info` print nothing; `warn` and `error` print one
 * line through `console.warn` / `console.error`, at most one per error code per `intervalMs`; the
 * next line printed for a code says how many were suppressed. A line names the code, the
 * identifiers (key_id, account_id, id, event_type), a hint for configuration problems, and for
 * HANDLER_FAILED the handler's error message and stack (for IDEMPOTENCY_STORE_UNAVAILABLE the
 * store's error message). `now` is for tests.
 */
export function createDefaultLogger(intervalMs = DEFAULT_LOG_INTERVAL_MS, now: () => number = Date.now): WebhookLogger {
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
    const hint = fields.code === undefined ? undefined : HINTS[fields.code];
    const cause = fields.handler_error;
    const what = fields.code === undefined ? message : `${fields.outcome ?? 'rejected'} ${WEBHOOK_ERROR_STATUS[fields.code]} ${fields.code}`;
    let line = `kompliant-webhooks: ${what}${describe(fields)}`;
    if (cause !== undefined) line += `: handler threw: ${cause.message}`;
    else if (hint !== undefined) line += `: ${hint}`;
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
