// Shared secrets: validation (base64 of exactly 32 bytes), key objects and comparison.
import { createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { decodeBase64Strict } from './base64.js';
import { WebhookError } from './errors.js';

/** Bytes of an AES-256 key. */
export const SECRET_BYTES = 32;

/**
 * A shared secret as Kompliant issues it (base64 text decoding to 32 bytes) or as 32 raw
 * bytes.
 */
export type SharedSecret = string | Uint8Array;

const MAX_CACHED_KEYS = 1024;
const keysByText = new Map<string, KeyObject>();

/**
 * True when `secret` is base64 of exactly 32 bytes, or exactly 32 raw bytes.
 *
 * @example
 * ```ts
 * isValidSharedSecret(process.env.KOMPLIANT_WEBHOOK_SECRET ?? ''); // false when unset
 * ```
 */
export function isValidSharedSecret(secret: unknown): secret is SharedSecret {
  if (secret instanceof Uint8Array) return secret.length === SECRET_BYTES;
  if (typeof secret !== 'string') return false;
  const bytes = decodeBase64Strict(secret);
  if (bytes === undefined) return false;
  const ok = bytes.length === SECRET_BYTES;
  bytes.fill(0);
  return ok;
}

/**
 * The AES-256 `KeyObject` for a shared secret; for base64 text it is reused across calls for
 * the same secret (a bounded map) so the hot path does not decode base64 for every webhook. Throws
 * `WebhookError('INVALID_KEY')` for anything but 32 bytes (a configuration error: status 500).
 */
export function toKeyObject(secret: SharedSecret): KeyObject {
  if (typeof secret === 'string') {
    const cached = keysByText.get(secret);
    if (cached !== undefined) return cached;
    const bytes = decodeBase64Strict(secret);
    const key = bytesToKey(bytes);
    bytes?.fill(0);
    if (keysByText.size >= MAX_CACHED_KEYS) {
      const oldest = keysByText.keys().next();
      if (oldest.done !== true) keysByText.delete(oldest.value);
    }
    keysByText.set(secret, key);
    return key;
  }
  // Bytes are not cached: the caller may reuse the buffer for another secret.
  if (secret instanceof Uint8Array) return bytesToKey(secret);
  throw new WebhookError('INVALID_KEY');
}

function bytesToKey(bytes: Uint8Array | undefined): KeyObject {
  if (bytes === undefined || bytes.length !== SECRET_BYTES) throw new WebhookError('INVALID_KEY');
  return createSecretKey(bytes);
}

/**
 * Returns `secret` when it is a valid shared secret (a 32-byte `Uint8Array` is copied, so the
 * caller's buffer can be reused; surrounding whitespace of a string is trimmed, the one rule
 * every store and the CLI follow), otherwise throws `WebhookError('INVALID_KEY')` (status 500).
 * The message never contains the value. For key stores that read secrets from outside.
 *
 * @example
 * ```ts
 * const secret = requireValidSharedSecret(row.shared_secret); // throws INVALID_KEY if malformed
 * ```
 */
export function requireValidSharedSecret(secret: unknown): SharedSecret {
  const value = trimSecretText(secret);
  if (!isValidSharedSecret(value)) throw new WebhookError('INVALID_KEY');
  return typeof value === 'string' ? value : Uint8Array.from(value);
}

/**
 * The one whitespace rule for secrets, applied by every key store and the CLI: a secret given
 * as text loses its surrounding whitespace (a trailing newline from a file, `echo` or a
 * secrets manager console, spaces, tabs, CR), as `String.prototype.trim` does; whitespace
 * inside it is never removed, so `"ab cd"` stays invalid. Anything but a string is returned
 * as it is.
 */
export function trimSecretText<T>(secret: T): T {
  return (typeof secret === 'string' ? secret.trim() : secret) as T;
}

/**
 * True when two valid shared secrets hold the same 32 key bytes, compared in constant time
 * (`timingSafeEqual`), whatever their form (base64 text or bytes). False when either is invalid.
 */
export function isSameSharedSecret(a: SharedSecret, b: SharedSecret): boolean {
  const left = secretBytes(a);
  const right = secretBytes(b);
  try {
    if (left === undefined || right === undefined) return false;
    if (left.length !== SECRET_BYTES || right.length !== SECRET_BYTES) return false;
    return timingSafeEqual(left, right);
  } finally {
    left?.fill(0);
    right?.fill(0);
  }
}

/**
 * The key bytes of a secret given as text (decoded) or bytes (copied), to be zeroed by the
 * caller; `undefined` for text that is no strict base64 and for anything else, such as a number
 * or an object from a store of the user's own (whose answers are not typed at run time).
 */
function secretBytes(secret: unknown): Buffer | undefined {
  if (typeof secret === 'string') return decodeBase64Strict(secret);
  return secret instanceof Uint8Array ? Buffer.from(secret) : undefined;
}
