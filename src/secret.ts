import { createSecretKey, type KeyObject } from 'node:crypto';
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
const keysByBytes = new WeakMap<Uint8Array, KeyObject>();

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
 * The AES-256 `KeyObject` for a shared secret, reused across calls for the same secret so the
 * hot path does not decode base64 and build a key for every webhook. Throws
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
  if (secret instanceof Uint8Array) {
    const cached = keysByBytes.get(secret);
    if (cached !== undefined) return cached;
    const key = bytesToKey(secret);
    keysByBytes.set(secret, key);
    return key;
  }
  throw new WebhookError('INVALID_KEY');
}

function bytesToKey(bytes: Uint8Array | undefined): KeyObject {
  if (bytes === undefined || bytes.length !== SECRET_BYTES) throw new WebhookError('INVALID_KEY');
  return createSecretKey(bytes);
}
