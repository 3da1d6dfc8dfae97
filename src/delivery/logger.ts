// Structured delivery log lines: the logger contract, its check, and the fields each line carries (never secrets or payloads).
import type { WebhookErrorCode } from '../wire/errors.js';
import type { EnvelopeMetadata, KompliantEvent } from '../wire/event.js';

/**
 * A pino- or console-like logger. Each call gets one structured object and a short message,
 * `logger.info({ id, event_type, outcome }, 'kompliant webhook handled')`, which pino, bunyan-style
 * loggers and `console` all accept. Without a `logger` option, rejections and failures are
 * written to stderr through `console` (warn for 4xx, error for 5xx, at most one line per code
 * per 10 s); `logger: false` turns that off.
 *
 * @example
 * ```ts
 * kompliantWebhook({ keyStore, onEvent, logger: pino() });
 * kompliantWebhook({ keyStore, onEvent, logger: console });
 * ```
 */
export interface WebhookLogger {
  debug(fields: WebhookLogFields, message: string): void;
  info(fields: WebhookLogFields, message: string): void;
  warn(fields: WebhookLogFields, message: string): void;
  error(fields: WebhookLogFields, message: string): void;
}

/** How a delivery ended, as logged and counted. */
export type WebhookOutcome = 'handled' | 'passed' | 'duplicate' | 'rejected' | 'failed' | 'timeout';

/**
 * The fields of a log line. Identifiers are present once the envelope passed validation (and
 * `id` / `event_type` only count as authenticated when `outcome` is not `rejected`). Never a
 * secret, never plaintext, never ciphertext: only identifiers, counts, codes and durations.
 */
export interface WebhookLogFields {
  id?: string;
  event_type?: string;
  key_id?: string;
  /** The envelope's `account_id`: receivers serving several accounts tell them apart by it. */
  account_id?: string;
  retry_count?: number;
  /**
   * The SQS message id of a queue record that `createSqsBatchHandler` acknowledged without
   * handling it (it can never be valid), so the record can be found in the queue's logs.
   */
  message_id?: string;
  code?: WebhookErrorCode;
  /** Milliseconds since the request reached the handler. */
  duration?: number;
  outcome?: WebhookOutcome;
  /**
   * For a rejection or failure: the error's message, the library's own text that the response
   * body carries too (`Application answered 404`, `account not served`, `Idempotency store
   * unavailable`, ...). It says more than `code` for HANDLER_FAILED and UNKNOWN_KEY; match on
   * `code`, read `reason`.
   */
  reason?: string;
  /**
   * For HANDLER_FAILED with an underlying error: the handler's own error when it threw (its
   * message and stack, your code's text; the library adds nothing from the payload), or, when
   * `reason` names another step (`Payload schema threw`), that step's error.
   */
  handler_error?: { message: string; stack?: string };
  /**
   * For IDEMPOTENCY_STORE_UNAVAILABLE: what the store (or its deadline) said, as the message of
   * its error (a driver's error text, or that it did not answer in time).
   */
  store_error?: { message: string };
  /**
   * For the line of a wire-format diagnosis (an envelope that did not open with the configured
   * `layout` / `aad` opened with these): the layout's name, the AAD construction's description,
   * and the options to configure. Never the plaintext, never the key.
   */
  wire_format?: { layout: string; aad: string; configure: string };
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Checks the `logger` option: undefined, or an object with debug/info/warn/error functions. */
export function checkLogger(value: unknown, name = 'logger'): WebhookLogger | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must have debug, info, warn and error methods`);
  for (const level of LEVELS) {
    if (typeof (value as Record<string, unknown>)[level] !== 'function') {
      throw new TypeError(`${name} must have debug, info, warn and error methods`);
    }
  }
  return value as WebhookLogger;
}

/** Writes one line, ignoring a logger that throws: logging must never change an answer. */
export function writeLog(
  logger: WebhookLogger | undefined,
  level: (typeof LEVELS)[number],
  fields: WebhookLogFields,
  message: string,
): void {
  if (logger === undefined) return;
  try {
    logger[level](fields, message);
  } catch {
    // A broken logger must not turn a delivery into a failure.
  }
}

/** The log fields of a verified event: identifiers only, never `data`. */
export function eventLogFields(event: KompliantEvent<unknown>): WebhookLogFields {
  return { id: event.id, event_type: event.event_type, key_id: event.key_id, account_id: event.account_id, retry_count: event.retry_count };
}

/** The log fields of an envelope that passed the envelope rules but was rejected: identifiers only, unauthenticated. */
export function envelopeLogFields(metadata: EnvelopeMetadata): WebhookLogFields {
  return { id: metadata.id, event_type: metadata.event_type, key_id: metadata.key_id, account_id: metadata.account_id };
}

/** The `handler_error` field of a thrown value: an Error's message and stack, or the value as text. */
export function handlerErrorField(thrown: unknown): { message: string; stack?: string } {
  if (thrown instanceof Error) return thrown.stack === undefined ? { message: thrown.message } : { message: thrown.message, stack: thrown.stack };
  return { message: typeof thrown === 'string' ? thrown : String(thrown) };
}
