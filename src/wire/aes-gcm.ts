// AES-256-GCM open and seal over node:crypto: 12-byte nonce, full 16-byte tag, one opaque failure.
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { WebhookError } from './errors.js';
import { dataLayout, DEFAULT_DATA_LAYOUT, NONCE_BYTES, TAG_BYTES, type DataLayoutName } from './data-layout.js';
import { toKeyObject, type SharedSecret } from './secret.js';

export { NONCE_BYTES, TAG_BYTES };

/** Sets V8's stack capture depth; a no-op where intrinsics are frozen (SES, --frozen-intrinsics). */
function setStackTraceLimit(value: number): void {
  try {
    Error.stackTraceLimit = value;
  } catch {
    // Non-writable: errors keep their stacks, which only costs time.
  }
}

/**
 * Decrypts `nonce(12) || ciphertext || tag(16)` with AES-256-GCM and the given AAD; `layout`
 * names another order of the same three parts (default `'nonce-ciphertext-tag'`, the spec's).
 * The nonce is 12 bytes and the tag is pinned to 16 bytes in every layout (node:crypto would
 * otherwise accept truncated tags). Any authentication failure, whatever its cause, is one
 * opaque `WebhookError('DECRYPTION_FAILED')`; a secret that is not 32 bytes is `INVALID_KEY`;
 * an unknown `layout` name is a TypeError.
 *
 * @example
 * ```ts
 * const plaintext = decryptData(secret, Buffer.from(envelope.data, 'base64'), aad);
 * const reordered = decryptData(secret, dataBytes, aad, 'nonce-tag-ciphertext');
 * ```
 */
export function decryptData(
  secret: SharedSecret,
  dataBytes: Uint8Array,
  aad: Uint8Array,
  layout: DataLayoutName = DEFAULT_DATA_LAYOUT,
): Buffer {
  const key = toKeyObject(secret);
  const reordered = layout === DEFAULT_DATA_LAYOUT ? undefined : dataLayout(layout);
  if (!(dataBytes instanceof Uint8Array) || dataBytes.length < NONCE_BYTES + TAG_BYTES) {
    throw new WebhookError('DECRYPTION_FAILED');
  }
  if (reordered !== undefined) {
    const parts = reordered.split(dataBytes);
    return openParts(key, parts.nonce, parts.ciphertext, parts.tag, aad);
  }
  const tagStart = dataBytes.length - TAG_BYTES;
  return openParts(
    key,
    dataBytes.subarray(0, NONCE_BYTES),
    dataBytes.subarray(NONCE_BYTES, tagStart),
    dataBytes.subarray(tagStart),
    aad,
  );
}

/** AES-256-GCM open of parts whose lengths the caller fixed (nonce 12, tag 16). */
function openParts(key: KeyObject, nonce: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array, aad: Uint8Array): Buffer {
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const head = decipher.update(ciphertext);
    // A forged or corrupted request throws here and below, and both stacks say nothing useful
    // (the first is discarded, the second is a fixed opaque answer): skipping their capture
    // keeps a rejection no slower than a success (it cost ~6 us of ~14 us at 1 KiB).
    setStackTraceLimit(0);
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    // Swallow the crypto error: nothing about tag, nonce or key may reach a caller.
    setStackTraceLimit(0);
    throw new WebhookError('DECRYPTION_FAILED');
  } finally {
    setStackTraceLimit(stackTraceLimit);
  }
}

/**
 * Encrypts `plaintext` the way Kompliant does: returns `nonce(12) || ciphertext || tag(16)`
 * with a fresh random nonce unless one is given (only tests should pass one). `layout` puts the
 * same parts in another order, for fixtures of a sender configured that way.
 *
 * @example
 * ```ts
 * const data = sealData(secret, Buffer.from(JSON.stringify(payload)), aad).toString('base64');
 * const reordered = sealData(secret, plaintext, aad, undefined, 'nonce-tag-ciphertext');
 * ```
 */
export function sealData(
  secret: SharedSecret,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array = randomBytes(NONCE_BYTES),
  layout: DataLayoutName = DEFAULT_DATA_LAYOUT,
): Buffer {
  if (nonce.length !== NONCE_BYTES) throw new TypeError(`nonce must be ${NONCE_BYTES} bytes`);
  const reordered = layout === DEFAULT_DATA_LAYOUT ? undefined : dataLayout(layout);
  const cipher = createCipheriv('aes-256-gcm', toKeyObject(secret), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  if (reordered !== undefined) {
    return reordered.join({ nonce, ciphertext: Buffer.concat([body, tail]), tag: cipher.getAuthTag() });
  }
  return Buffer.concat([nonce, body, tail, cipher.getAuthTag()]);
}
