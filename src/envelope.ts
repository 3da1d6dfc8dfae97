import { decodeBase64Strict } from './base64.js';
import { WebhookError } from './errors.js';
import type { EnvelopeMetadata } from './event.js';

/** `^whk_[0-9]{8}_[0-9]{2}$`: the only key ids that may reach a key store. */
export const KEY_ID_PATTERN = /^whk_[0-9]{8}_[0-9]{2}$/;
/** `[A-Za-z0-9_-]{1,128}`: the form of `id` and `account_id`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** `[A-Za-z0-9_.-]{1,128}`: the form of `event_type`. */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
const TIMESTAMP_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Bytes of nonce (12) plus tag (16): the shortest `data` that can be valid. */
export const MIN_DATA_BYTES = 28;

/**
 * How the AAD is built from the envelope metadata:
 * - `'default'`: spec section 2, `JSON.stringify({id, event_type, timestamp, account_id,
 *   schema_version, key_id})` as UTF-8;
 * - `'none'`: no AAD (a sender configured without authenticated metadata);
 * - a function returning the AAD bytes (or a string, taken as UTF-8) for another layout.
 */
export type AadOption = 'default' | 'none' | ((metadata: EnvelopeMetadata) => Uint8Array | string);

/** An envelope that passed spec section 1, with `data` already decoded. */
export interface ValidatedEnvelope {
  metadata: EnvelopeMetadata;
  dataBytes: Buffer;
  retryCount: number;
}

/**
 * True when `keyId` has the exact form `whk_YYYYMMDD_NN`, the only form a key store is ever
 * asked for.
 *
 * @example
 * ```ts
 * isValidKeyId('whk_20251121_01'); // true
 * isValidKeyId('../../prod/db-password'); // false
 * ```
 */
export function isValidKeyId(keyId: unknown): keyId is string {
  return typeof keyId === 'string' && KEY_ID_PATTERN.test(keyId);
}

function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

function isIsoDateTime(value: string): boolean {
  const m = TIMESTAMP_PATTERN.exec(value);
  if (!m) return false;
  const [, year, month, day, hour, minute, second, offsetHour, offsetMinute] = m;
  if (!isValidDate(Number(year), Number(month), Number(day))) return false;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return false;
  if (offsetHour !== undefined && (Number(offsetHour) > 23 || Number(offsetMinute) > 59)) return false;
  return true;
}

function isIsoDate(value: string): boolean {
  const m = DATE_PATTERN.exec(value);
  return m !== null && isValidDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

function invalid(field: string, problem: string): WebhookError {
  // Names the field and the rule, never the received value.
  return new WebhookError('INVALID_ENVELOPE', { message: `Webhook envelope is invalid: ${field} ${problem}` });
}

function ownString(envelope: object, field: string, pattern: RegExp | ((value: string) => boolean)): string {
  if (!Object.hasOwn(envelope, field)) throw invalid(field, 'is missing');
  const value = (envelope as Record<string, unknown>)[field];
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  const ok = typeof pattern === 'function' ? pattern(value) : pattern.test(value);
  if (!ok) throw invalid(field, 'has an invalid format');
  return value;
}

/**
 * Checks a parsed body against spec section 1 and decodes `data`. Only own properties are
 * read, so an inherited or `__proto__` field can never stand in for a real one. Unknown fields
 * are ignored. Throws `WebhookError('INVALID_JSON' | 'INVALID_ENVELOPE')`.
 */
export function validateEnvelope(body: unknown): ValidatedEnvelope {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WebhookError('INVALID_JSON');
  }
  // key_id first: it is the field that reaches a key store and so a secret name.
  const key_id = ownString(body, 'key_id', KEY_ID_PATTERN);
  const id = ownString(body, 'id', ID_PATTERN);
  const event_type = ownString(body, 'event_type', EVENT_TYPE_PATTERN);
  const timestamp = ownString(body, 'timestamp', isIsoDateTime);
  const account_id = ownString(body, 'account_id', ID_PATTERN);
  const schema_version = ownString(body, 'schema_version', isIsoDate);

  if (!Object.hasOwn(body, 'data')) throw invalid('data', 'is missing');
  const data = (body as Record<string, unknown>).data;
  if (typeof data !== 'string') throw invalid('data', 'must be a string');
  const dataBytes = decodeBase64Strict(data);
  if (dataBytes === undefined) throw invalid('data', 'is not standard base64');
  if (dataBytes.length < MIN_DATA_BYTES) throw invalid('data', `decodes to fewer than ${MIN_DATA_BYTES} bytes`);

  let retryCount = 0;
  if (Object.hasOwn(body, 'retry_count')) {
    const value = (body as Record<string, unknown>).retry_count;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw invalid('retry_count', 'must be a non-negative integer');
    }
    retryCount = value;
  }

  return {
    metadata: { id, event_type, timestamp, account_id, schema_version, key_id },
    dataBytes,
    retryCount,
  };
}

/**
 * The spec's default AAD: the UTF-8 bytes of `JSON.stringify` of the six metadata fields in
 * this exact order, no whitespace, values as received.
 *
 * @example
 * ```ts
 * defaultAad(metadata).toString('utf8');
 * // '{"id":"wh_...","event_type":"WORKFLOW_COMPLETED",...,"key_id":"whk_20251121_01"}'
 * ```
 */
export function defaultAad(metadata: EnvelopeMetadata): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: metadata.id,
      event_type: metadata.event_type,
      timestamp: metadata.timestamp,
      account_id: metadata.account_id,
      schema_version: metadata.schema_version,
      key_id: metadata.key_id,
    }),
    'utf8',
  );
}

/**
 * {@link defaultAad} for metadata that passed {@link validateEnvelope}: every field pattern
 * there excludes `"`, `\\` and control characters, so `JSON.stringify` would copy each value
 * verbatim and plain concatenation gives the same bytes at a fraction of the cost (a hot-path
 * saving; the shared vectors and a property test hold the two equal).
 */
function defaultAadOfValidated(m: EnvelopeMetadata): Buffer {
  return Buffer.from(
    `{"id":"${m.id}","event_type":"${m.event_type}","timestamp":"${m.timestamp}","account_id":"${m.account_id}","schema_version":"${m.schema_version}","key_id":"${m.key_id}"}`,
    'latin1',
  );
}

const EMPTY = Buffer.alloc(0);

/**
 * The AAD bytes for `metadata` under the configured {@link AadOption}. `validated` says the
 * metadata came out of {@link validateEnvelope} (then the default AAD takes a faster path).
 */
export function buildAad(aad: AadOption, metadata: EnvelopeMetadata, validated = false): Uint8Array {
  if (aad === 'default') return validated ? defaultAadOfValidated(metadata) : defaultAad(metadata);
  if (aad === 'none') return EMPTY;
  const custom = aad(metadata);
  return typeof custom === 'string' ? Buffer.from(custom, 'utf8') : custom;
}

/** Checks an `aad` option value at construction; throws a TypeError naming `optionName`. */
export function checkAadOption(value: unknown, optionName = 'aad'): AadOption {
  if (value === undefined) return 'default';
  if (value === 'default' || value === 'none' || typeof value === 'function') return value as AadOption;
  throw new TypeError(`${optionName} must be 'default', 'none' or a function of the envelope metadata`);
}
