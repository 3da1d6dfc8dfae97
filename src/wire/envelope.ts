// The envelope rules of spec section 1 and the AAD of section 2.
import { decodeBase64Strict } from './base64.js';
import { WebhookError } from './errors.js';
import type { EnvelopeMetadata } from './event.js';

/** `^whk_[0-9]{8}_[0-9]{2}$`: the only key ids that may reach a key store. */
export const KEY_ID_PATTERN = /^whk_[0-9]{8}_[0-9]{2}$/;
/** `[A-Za-z0-9_-]{1,128}`: the form of `id` and `account_id`. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** `[A-Za-z0-9_.-]{1,128}`: the form of `event_type`. */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
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

/** The value of the ASCII digit at `at`, or -1 for any other character (or past the end). */
function digitAt(text: string, at: number): number {
  const code = text.charCodeAt(at) - 48;
  return code >= 0 && code <= 9 ? code : -1;
}

/** The two-digit number at `at`, or -1 unless both characters are ASCII digits. */
function twoDigitsAt(text: string, at: number): number {
  const tens = digitAt(text, at);
  const ones = digitAt(text, at + 1);
  return tens < 0 || ones < 0 ? -1 : tens * 10 + ones;
}

/** Days in `month` (1-12) of the proleptic Gregorian `year` (RFC 3339 appendix C). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * True when `text` starts with a real calendar date `YYYY-MM-DD` (ASCII digits only). Read
 * character by character: this runs on every request, and a capturing regex plus a `Date`
 * cost about half a microsecond there.
 */
function startsWithDate(text: string): boolean {
  const high = twoDigitsAt(text, 0);
  const low = twoDigitsAt(text, 2);
  const month = twoDigitsAt(text, 5);
  const day = twoDigitsAt(text, 8);
  if (high < 0 || low < 0 || text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(7) !== 45) return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(high * 100 + low, month);
}

/**
 * `YYYY-MM-DDTHH:MM:SS`, optional `.` and 1-9 fraction digits, then `Z` or `+HH:MM` / `-HH:MM`
 * (RFC 3339, upper-case `T` and `Z`), with a real date, hours 00-23, minutes and seconds 00-59
 * (no leap second) and offsets up to 23:59. No length checks: past the end `charCodeAt` is NaN,
 * which no check accepts.
 */
function isIsoDateTime(value: string): boolean {
  if (!startsWithDate(value) || value.charCodeAt(10) !== 84 /* T */) return false;
  const hour = twoDigitsAt(value, 11);
  const minute = twoDigitsAt(value, 14);
  const second = twoDigitsAt(value, 17);
  if (value.charCodeAt(13) !== 58 /* : */ || value.charCodeAt(16) !== 58) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let at = 19;
  if (value.charCodeAt(at) === 46 /* . */) {
    const first = ++at;
    while (digitAt(value, at) >= 0) at++;
    if (at === first || at - first > 9) return false;
  }
  const zone = value.charCodeAt(at);
  if (zone === 90 /* Z */) return at + 1 === value.length;
  if (zone !== 43 /* + */ && zone !== 45 /* - */) return false;
  if (at + 6 !== value.length || value.charCodeAt(at + 3) !== 58) return false;
  const offsetHour = twoDigitsAt(value, at + 1);
  const offsetMinute = twoDigitsAt(value, at + 4);
  return offsetHour >= 0 && offsetHour <= 23 && offsetMinute >= 0 && offsetMinute <= 59;
}

/** Exactly `YYYY-MM-DD`, a real calendar date. */
function isIsoDate(value: string): boolean {
  return value.length === 10 && startsWithDate(value);
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
