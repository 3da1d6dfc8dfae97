// Opens a validated envelope with a known secret: decrypt, strict UTF-8 JSON payload, the event object.
import { decryptData } from './aes-gcm.js';
import { checkLayoutOption, DEFAULT_DATA_LAYOUT, type DataLayoutName } from './data-layout.js';
import { buildAad, checkAadOption, validateEnvelope, type AadOption, type ValidatedEnvelope } from './envelope.js';
import type { KompliantEvent, PayloadV1 } from './event.js';
import { parseJsonObject } from './json.js';
import type { SharedSecret } from './secret.js';

/** Options of {@link openEnvelope}. */
export interface OpenEnvelopeOptions {
  /** How the AAD is built from the metadata. Default `'default'` (spec section 2). */
  aad?: AadOption;
  /**
   * The byte order of the decoded `data`: one of `DATA_LAYOUT_NAMES` (from `kompliant-webhooks/wire`). Default
   * `'nonce-ciphertext-tag'` (spec section 2). The `detect` CLI command names the one a
   * captured envelope uses.
   */
  layout?: DataLayoutName;
}

/**
 * Parses a body (a JSON string, UTF-8 bytes, or an already parsed value) into the object the
 * envelope rules are checked against.
 */
export function toEnvelopeObject(body: unknown): unknown {
  return typeof body === 'string' || body instanceof Uint8Array ? parseJsonObject(body, 'INVALID_JSON') : body;
}

/**
 * Decrypts an envelope that already passed validation and builds the event from the known
 * fields only. The decrypted object is used as parsed, never merged into another object, so a
 * `__proto__` key inside it stays an ordinary own property.
 */
export function decryptEnvelope<TData>(
  envelope: ValidatedEnvelope,
  secret: SharedSecret,
  aad: AadOption,
  layout: DataLayoutName = DEFAULT_DATA_LAYOUT,
): KompliantEvent<TData> {
  const { metadata } = envelope;
  const plaintext = decryptData(secret, envelope.dataBytes, buildAad(aad, metadata, true), layout);
  const data = parseJsonObject(plaintext, 'INVALID_PAYLOAD') as TData;
  return {
    id: metadata.id,
    event_type: metadata.event_type,
    timestamp: metadata.timestamp,
    account_id: metadata.account_id,
    schema_version: metadata.schema_version,
    key_id: metadata.key_id,
    data,
    retry_count: envelope.retryCount,
  };
}

/**
 * Synchronously validates and decrypts one envelope with a known secret (no key store, no
 * HTTP): for scripts, queue consumers that hold the secret, and debugging a captured webhook.
 * Throws `WebhookError` with the same codes as the middleware.
 *
 * @param envelope - the envelope as an object, a JSON string or UTF-8 bytes
 * @param secret - the shared secret: base64 text as issued, or 32 raw bytes
 * @example
 * ```ts
 * const event = openEnvelope(JSON.parse(capturedBody), process.env.KOMPLIANT_WEBHOOK_SECRET!);
 * console.log(event.event_type, event.data.subject_record_id);
 *
 * // A sender that puts the tag right after the nonce (what `detect` reported):
 * openEnvelope(capturedBody, secret, { layout: 'nonce-tag-ciphertext' });
 * ```
 */
export function openEnvelope<TData = PayloadV1>(
  envelope: unknown,
  secret: SharedSecret,
  options: OpenEnvelopeOptions = {},
): KompliantEvent<TData> {
  const aad = checkAadOption(options.aad);
  const layout = checkLayoutOption(options.layout);
  return decryptEnvelope<TData>(validateEnvelope(toEnvelopeObject(envelope)), secret, aad, layout);
}
