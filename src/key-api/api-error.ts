/** The documented sub code for "too many keys today" (webhook.key.create reference). */
export const DAILY_LIMIT_EXCEEDED = 'DAILY_LIMIT_EXCEEDED';
/** The integration guide's spelling of {@link DAILY_LIMIT_EXCEEDED}; normalised to it. */
export const DAILY_KEY_LIMIT_ALIAS = 'DAILY_KEY_LIMIT';

/**
 * Codes of {@link KompliantApiError}. The first three come from Kompliant's error envelope
 * (any other code Kompliant sends is kept as is); the others are raised by the client itself:
 * `UNAUTHORIZED` (401/403), `HTTP_ERROR` (another non-200 status, e.g. 5xx after the retries),
 * `NETWORK_ERROR`, `TIMEOUT` and `INVALID_RESPONSE` (a body that is not the documented envelope).
 */
export type KompliantApiErrorCode =
  | 'BAD_REQUEST'
  | 'ENTITY_NOT_FOUND'
  | 'SYSTEM_RULE_VIOLATION'
  | 'UNAUTHORIZED'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | (string & {});

/** Fields of a {@link KompliantApiError}. */
export interface KompliantApiErrorInit {
  code: KompliantApiErrorCode;
  message: string;
  subCode?: string | undefined;
  entityType?: string | undefined;
  httpStatus?: number | undefined;
  traceId?: string | undefined;
  method?: string | undefined;
  cause?: unknown;
}

/** Maps both spellings of the daily-limit sub code to {@link DAILY_LIMIT_EXCEEDED}. */
function normaliseSubCode(subCode: string | undefined): string | undefined {
  return subCode === DAILY_KEY_LIMIT_ALIAS ? DAILY_LIMIT_EXCEEDED : subCode;
}

/**
 * An error of the Kompliant key API, or of reaching it. `code`, `subCode` and `entityType`
 * are Kompliant's (the daily-limit sub code is normalised: both `DAILY_LIMIT_EXCEEDED` and
 * `DAILY_KEY_LIMIT` arrive as `DAILY_LIMIT_EXCEEDED`, the received spelling stays in
 * `rawSubCode`). The message never contains credentials or shared secrets.
 *
 * @example
 * ```ts
 * try {
 *   await client.createKey({ accountId });
 * } catch (error) {
 *   if (isKompliantApiError(error) && error.subCode === DAILY_LIMIT_EXCEEDED) waitUntilTomorrow();
 * }
 * ```
 */
export class KompliantApiError extends Error {
  /** Kompliant's error code, or the client's own (see {@link KompliantApiErrorCode}). */
  readonly code: KompliantApiErrorCode;
  /** Normalised sub code: `DAILY_KEY_LIMIT` arrives as {@link DAILY_LIMIT_EXCEEDED}. */
  readonly subCode: string | undefined;
  /** The sub code exactly as received. */
  readonly rawSubCode: string | undefined;
  /** Kompliant's `entity_type`, e.g. `Webhook Key`, `Webhook Config`. */
  readonly entityType: string | undefined;
  /** HTTP status of the last answer; undefined when no answer arrived. */
  readonly httpStatus: number | undefined;
  /** `meta.trace_id` when the answer had one: quote it to Kompliant support. */
  readonly traceId: string | undefined;
  /** The API method called, e.g. `webhook.key.create`. */
  readonly method: string | undefined;

  constructor(init: KompliantApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'KompliantApiError';
    this.code = init.code;
    this.rawSubCode = init.subCode;
    this.subCode = normaliseSubCode(init.subCode);
    this.entityType = init.entityType;
    this.httpStatus = init.httpStatus;
    this.traceId = init.traceId;
    this.method = init.method;
  }
}

/**
 * True for a {@link KompliantApiError}, also one from another copy of the library.
 *
 * @example
 * ```ts
 * if (isKompliantApiError(error) && error.code === 'ENTITY_NOT_FOUND') console.error('no such key');
 * ```
 */
export function isKompliantApiError(value: unknown): value is KompliantApiError {
  if (value instanceof KompliantApiError) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'KompliantApiError' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** True when `error` is the daily key limit, whichever spelling Kompliant used. */
export function isDailyLimitError(error: unknown): boolean {
  return isKompliantApiError(error) && error.subCode === DAILY_LIMIT_EXCEEDED;
}
