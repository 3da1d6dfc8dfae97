/**
 * Every error code the receiver can produce, with the HTTP status it answers with.
 * The codes and statuses are the wire contract (spec section 4): map them to logs and
 * metrics by `code`, never by parsing a message.
 */
export const WEBHOOK_ERROR_STATUS = {
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  INVALID_JSON: 400,
  INVALID_ENVELOPE: 400,
  FORBIDDEN_IP: 403,
  UNKNOWN_KEY: 401,
  DECRYPTION_FAILED: 401,
  INVALID_PAYLOAD: 400,
  INVALID_KEY: 500,
  KEY_STORE_UNAVAILABLE: 503,
  DUPLICATE_IN_PROGRESS: 409,
  // The idempotency store failed or missed `idempotencyTimeoutMs` before the handler ran.
  IDEMPOTENCY_STORE_UNAVAILABLE: 503,
  HANDLER_FAILED: 500,
  // The handler (or schema) outlived `handlerTimeoutMs` or the delivery's `deliveryTimeoutMs`.
  // 503 tells the sender to retry later; the id stays claimed until the handler settles, or one
  // lease after the delivery's time ends.
  HANDLER_TIMEOUT: 503,
} as const;

/**
 * The stable error codes of {@link WebhookError}.
 *
 * @example
 * ```ts
 * onError(error) { metrics.increment('kompliant.webhook.rejected', { code: error.code }); }
 * ```
 */
export type WebhookErrorCode = keyof typeof WEBHOOK_ERROR_STATUS;

const DEFAULT_MESSAGES: Record<WebhookErrorCode, string> = {
  METHOD_NOT_ALLOWED: 'Only POST is allowed',
  UNSUPPORTED_MEDIA_TYPE: 'Content-Type must be application/json',
  PAYLOAD_TOO_LARGE: 'Request body is too large',
  REQUEST_TIMEOUT: 'Request body did not arrive in time',
  INVALID_JSON: 'Request body is not a JSON object',
  INVALID_ENVELOPE: 'Webhook envelope is invalid',
  FORBIDDEN_IP: 'Client address is not allowed',
  UNKNOWN_KEY: 'Unknown key_id',
  DECRYPTION_FAILED: 'Decryption failed',
  INVALID_PAYLOAD: 'Decrypted payload is not a JSON object',
  INVALID_KEY: 'The stored secret for this key_id is not a valid AES-256 key',
  KEY_STORE_UNAVAILABLE: 'Key store unavailable',
  DUPLICATE_IN_PROGRESS: 'This event is already being handled',
  IDEMPOTENCY_STORE_UNAVAILABLE: 'Idempotency store unavailable',
  HANDLER_FAILED: 'Webhook handler failed',
  HANDLER_TIMEOUT: 'Webhook handler did not finish in time',
};

/** Options for constructing a {@link WebhookError}. */
export interface WebhookErrorOptions {
  /** A fixed, non-secret message; defaults to the code's standard message. */
  message?: string;
  /** The underlying error, kept for server-side logs only; never sent to the client. */
  cause?: unknown;
}

/**
 * The one error type of the library. `code` is the contract; `status` is the HTTP status the
 * middleware answers with; `message` never contains key material, plaintext or ciphertext.
 * `cause` (when present) holds the underlying error for your own logs and is never serialised
 * into a response.
 *
 * @example
 * ```ts
 * try {
 *   const event = await receiver.receive(body);
 * } catch (error) {
 *   if (isWebhookError(error)) console.warn(error.code, error.status);
 * }
 * ```
 */
export class WebhookError extends Error {
  /** The stable code, one of {@link WebhookErrorCode}. */
  readonly code: WebhookErrorCode;
  /** The HTTP status the spec assigns to `code`. */
  readonly status: number;
  /**
   * The underlying error (a key store's, a handler's), for your own logs; never sent to the
   * client. Declared here so it is typed for compile targets below ES2022 as well.
   */
  declare cause?: unknown;

  constructor(code: WebhookErrorCode, options: WebhookErrorOptions = {}) {
    super(options.message ?? DEFAULT_MESSAGES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WebhookError';
    this.code = code;
    this.status = WEBHOOK_ERROR_STATUS[code];
  }

  /** The response body the spec prescribes: `{"error":{"code","message"}}`. */
  toJSON(): { error: { code: WebhookErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/**
 * True for a {@link WebhookError}, also one created by another copy of this library (checks
 * the code rather than relying on `instanceof` alone).
 *
 * @example
 * ```ts
 * if (isWebhookError(err) && err.code === 'UNKNOWN_KEY') alertOps(err.code);
 * ```
 */
export function isWebhookError(value: unknown): value is WebhookError {
  if (value instanceof WebhookError) return true;
  if (typeof value !== 'object' || value === null) return false;
  const code = (value as { code?: unknown }).code;
  return (
    (value as { name?: unknown }).name === 'WebhookError' &&
    typeof code === 'string' &&
    Object.hasOwn(WEBHOOK_ERROR_STATUS, code)
  );
}
