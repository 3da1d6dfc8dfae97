// Strict JSON object parsing for envelopes and payloads.
import { WebhookError, type WebhookErrorCode } from './errors.js';

// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a BOM is kept and so fails JSON.parse.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses UTF-8 bytes or text as JSON and requires a plain JSON object (not an array, not
 * null, not a primitive). Invalid UTF-8, invalid JSON and non-objects all throw
 * `WebhookError(code)`. `JSON.parse` keeps a `__proto__` key as an own property and never
 * touches a prototype; callers read fields with `Object.hasOwn`.
 */
export function parseJsonObject(input: string | Uint8Array, code: WebhookErrorCode): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : utf8.decode(input));
  } catch {
    throw new WebhookError(code);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WebhookError(code);
  return value as Record<string, unknown>;
}
