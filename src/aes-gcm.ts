import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WebhookError } from './errors.js';
import { toKeyObject, type SharedSecret } from './secret.js';

/** AES-GCM nonce length used by Kompliant (bytes). */
export const NONCE_BYTES = 12;
/** AES-GCM tag length used by Kompliant (bytes); shorter tags are never accepted. */
export const TAG_BYTES = 16;

/** Sets V8's stack capture depth; a no-op where intrinsics are frozen (SES, --frozen-intrinsics). */
function setStackTraceLimit(value: number): void {
  try {
    Error.stackTraceLimit = value;
  } catch {
    // Non-writable: errors keep their stacks, which only costs time.
  }
}

/**
 * Decrypts `nonce(12) || ciphertext || tag(16)` with AES-256-GCM and the given AAD.
 * The tag length is pinned to 16 bytes (node:crypto would otherwise accept truncated tags).
 * Any authentication failure, whatever its cause, is one opaque
 * `WebhookError('DECRYPTION_FAILED')`; a secret that is not 32 bytes is `INVALID_KEY`.
 *
 * @example
 * ```ts
 * const plaintext = decryptData(secret, Buffer.from(envelope.data, 'base64'), aad);
 * ```
 */
export function decryptData(secret: SharedSecret, dataBytes: Uint8Array, aad: Uint8Array): Buffer {
  const key = toKeyObject(secret);
  if (!(dataBytes instanceof Uint8Array) || dataBytes.length < NONCE_BYTES + TAG_BYTES) {
    throw new WebhookError('DECRYPTION_FAILED');
  }
  const tagStart = dataBytes.length - TAG_BYTES;
  const stackTraceLimit = Error.stackTraceLimit;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, dataBytes.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(dataBytes.subarray(tagStart));
    const head = decipher.update(dataBytes.subarray(NONCE_BYTES, tagStart));
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
 * with a fresh random nonce unless one is given (only tests should pass one).
 *
 * @example
 * ```ts
 * const data = sealData(secret, Buffer.from(JSON.stringify(payload)), aad).toString('base64');
 * ```
 */
export function sealData(
  secret: SharedSecret,
  plaintext: Uint8Array,
  aad: Uint8Array,
  nonce: Uint8Array = randomBytes(NONCE_BYTES),
): Buffer {
  if (nonce.length !== NONCE_BYTES) throw new TypeError(`nonce must be ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', toKeyObject(secret), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([nonce, body, tail, cipher.getAuthTag()]);
}
