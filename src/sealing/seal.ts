// Sealing as Kompliant does: fresh secrets and ids, and envelopes encrypted with the AAD and layout (used by the test helpers, emulator and CLI).
import { randomBytes } from 'node:crypto';
import { NONCE_BYTES, sealData } from '../wire/aes-gcm.js';
import { checkLayoutOption, type DataLayoutName } from '../wire/data-layout.js';
import { buildAad, checkAadOption, isValidKeyId, type AadOption } from '../wire/envelope.js';
import type { EnvelopeMetadata, EventType, KompliantEnvelope, PayloadV1 } from '../wire/event.js';
import type { SharedSecret } from '../wire/secret.js';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A fresh shared secret as `webhook.key.create` returns it: base64 of 32 random bytes.
 *
 * @example
 * ```ts
 * const secret = generateSharedSecret();
 * const keyStore = memoryKeyStore({ whk_20251121_01: secret });
 * ```
 */
export function generateSharedSecret(): string {
  return randomBytes(32).toString('base64');
}

/** A random id with a prefix, like Kompliant's `wh_2K9mPxR7N4jL8hS6TdWfY3` (22 characters after it). */
export function randomId(prefix: string): string {
  const bytes = randomBytes(22);
  let id = prefix;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** Today's first key id, `whk_<UTC YYYYMMDD>_01`. */
function todaysKeyId(): string {
  return `whk_${new Date().toISOString().slice(0, 10).replaceAll('-', '')}_01`;
}

/** Options of {@link createTestWebhook}. Every envelope field can be overridden. */
export interface CreateTestWebhookOptions<TData = PayloadV1> {
  /** The shared secret to encrypt with (base64 or 32 bytes). Required. */
  secret: SharedSecret;
  /** Default: `whk_<today UTC>_01`. */
  keyId?: string;
  /** Default `'WORKFLOW_COMPLETED'`. */
  eventType?: EventType;
  /** The payload to encrypt. Default: a minimal payload 1.0. */
  data?: TData;
  /** Default: a fresh random `wh_...` id on each call. */
  id?: string;
  /** Default: the current time, ISO 8601 with milliseconds and `Z`. */
  timestamp?: string;
  /**
   * Default `'sb_TestAccount'`, the same on every call: the receiver
   * resolves keys by (account, key id), so a fixed account keeps test webhooks on one cache
   * entry. Set it to test a receiver serving several accounts.
   */
  account_id?: string;
  /** Default `'2025-11-21'`. */
  schema_version?: string;
  /** Default 0. */
  retry_count?: number;
  /** The AAD construction; default as the spec says. */
  aad?: AadOption;
  /** A fixed 12-byte nonce, for reproducible fixtures only. Default: random per call. */
  nonce?: Uint8Array;
  /**
   * The byte order of `data`, as the receiver's `layout` option names it. Default
   * `'nonce-ciphertext-tag'` (the spec's).
   */
  layout?: DataLayoutName;
}

/** The default test payload: a minimal valid payload 1.0. */
export function samplePayload(): PayloadV1 {
  return {
    version: '1.0',
    subject_record_id: randomId('sr_'),
    workflow_id: randomId('w_'),
    workflow_type: 'BUSINESS_APPLICATION',
    user_context: { user_id: 'SYSTEM', user_type: 'SYSTEM' },
  };
}

/** The account id of test webhooks that do not name one: `'sb_TestAccount'`. */
export const TEST_ACCOUNT_ID = 'sb_TestAccount';

/**
 * Builds an envelope encrypted exactly as the spec says (AES-256-GCM, a fresh random nonce,
 * the default AAD over the metadata), ready to POST as JSON or pass to `receive()`.
 *
 * @example
 * ```ts
 * const secret = generateSharedSecret();
 * const app = createApp(memoryKeyStore({ whk_20251121_01: secret }));
 * const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01', data: { ... } });
 * await request(app).post('/webhooks/kompliant').send(envelope).expect(200);
 *
 * // A fixture for a receiver configured with `layout: 'nonce-tag-ciphertext'`:
 * createTestWebhook({ secret, layout: 'nonce-tag-ciphertext' });
 * ```
 */
export function createTestWebhook<TData = PayloadV1>(options: CreateTestWebhookOptions<TData>): KompliantEnvelope {
  const keyId = options.keyId ?? todaysKeyId();
  if (!isValidKeyId(keyId)) throw new TypeError('keyId must be of the form whk_YYYYMMDD_NN');
  const metadata: EnvelopeMetadata = {
    id: options.id ?? randomId('wh_'),
    event_type: options.eventType ?? 'WORKFLOW_COMPLETED',
    timestamp: options.timestamp ?? new Date().toISOString(),
    account_id: options.account_id ?? TEST_ACCOUNT_ID,
    schema_version: options.schema_version ?? '2025-11-21',
    key_id: keyId,
  };
  const payload = options.data === undefined ? samplePayload() : options.data;
  return sealEnvelope(metadata, payload, options.secret, {
    aad: checkAadOption(options.aad),
    layout: checkLayoutOption(options.layout),
    nonce: options.nonce,
    retryCount: options.retry_count,
  });
}

/** How {@link sealEnvelope} seals: all optional, defaults as Kompliant sends. */
export interface SealEnvelopeOptions {
  /** Default `'default'` (spec section 2). */
  aad?: AadOption;
  /** Default `'nonce-ciphertext-tag'`. */
  layout?: DataLayoutName;
  /** 12 bytes; default random. */
  nonce?: Uint8Array | undefined;
  /** Default 0. */
  retryCount?: number | undefined;
}

/**
 * Encrypts `payload` as JSON under `metadata` exactly as Kompliant does and returns the envelope.
 * The one sealing routine behind the test helpers and the emulator's sender.
 */
export function sealEnvelope(metadata: EnvelopeMetadata, payload: unknown, secret: SharedSecret, options: SealEnvelopeOptions = {}): KompliantEnvelope {
  const plaintext = Buffer.from(JSON.stringify(payload), 'utf8');
  const aad = buildAad(options.aad ?? 'default', metadata);
  const data = sealData(secret, plaintext, aad, options.nonce ?? randomBytes(NONCE_BYTES), options.layout);
  return { ...metadata, data: data.toString('base64'), retry_count: options.retryCount ?? 0 };
}

export { sealData };
