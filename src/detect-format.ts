import { decryptData, NONCE_BYTES, TAG_BYTES } from './aes-gcm.js';
import { defaultAad, validateEnvelope } from './envelope.js';
import type { EnvelopeMetadata } from './event.js';
import { parseJsonObject } from './json.js';
import type { SharedSecret } from './secret.js';

/** A byte layout of `data`: the order of nonce (12), ciphertext and tag (16). */
export interface DataLayout {
  name: string;
  /** Splits `data` into its parts. */
  split(data: Buffer): { nonce: Buffer; ciphertext: Buffer; tag: Buffer };
}

/** An AAD construction candidate. */
export interface AadCandidate {
  name: string;
  /** How to configure the receiver for it. */
  option: string;
  build(metadata: EnvelopeMetadata, envelope: Record<string, unknown>): Buffer;
}

/** The layouts tried by {@link detectEnvelopeFormat}; the first is the spec's. */
export const DATA_LAYOUTS: readonly DataLayout[] = [
  {
    name: 'nonce|ciphertext|tag',
    split: (d) => ({ nonce: d.subarray(0, NONCE_BYTES), ciphertext: d.subarray(NONCE_BYTES, d.length - TAG_BYTES), tag: d.subarray(d.length - TAG_BYTES) }),
  },
  {
    name: 'nonce|tag|ciphertext',
    split: (d) => ({ nonce: d.subarray(0, NONCE_BYTES), tag: d.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES), ciphertext: d.subarray(NONCE_BYTES + TAG_BYTES) }),
  },
  {
    name: 'ciphertext|tag|nonce (nonce-last)',
    split: (d) => ({ ciphertext: d.subarray(0, d.length - TAG_BYTES - NONCE_BYTES), tag: d.subarray(d.length - TAG_BYTES - NONCE_BYTES, d.length - NONCE_BYTES), nonce: d.subarray(d.length - NONCE_BYTES) }),
  },
  {
    name: 'tag|nonce|ciphertext',
    split: (d) => ({ tag: d.subarray(0, TAG_BYTES), nonce: d.subarray(TAG_BYTES, TAG_BYTES + NONCE_BYTES), ciphertext: d.subarray(TAG_BYTES + NONCE_BYTES) }),
  },
];

const METADATA_FIELDS = ['id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'key_id'] as const;
const SORTED_METADATA_FIELDS = ['account_id', 'event_type', 'id', 'key_id', 'schema_version', 'timestamp'] as const;

function pick(metadata: EnvelopeMetadata, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) out[f] = metadata[f as keyof EnvelopeMetadata];
  return out;
}

/** The AAD constructions tried by {@link detectEnvelopeFormat}; the first is the spec's. */
export const AAD_CANDIDATES: readonly AadCandidate[] = [
  { name: 'default (JSON of the six metadata fields, spec order)', option: "aad: 'default'", build: (m) => defaultAad(m) },
  { name: 'none (empty AAD)', option: "aad: 'none'", build: () => Buffer.alloc(0) },
  {
    name: 'metadata JSON with sorted keys',
    option: 'aad: (m) => JSON.stringify(sorted keys of the six fields)',
    build: (m) => Buffer.from(JSON.stringify(pick(m, SORTED_METADATA_FIELDS)), 'utf8'),
  },
  {
    name: "metadata JSON with ', ' and ': ' separators (Python json.dumps)",
    option: 'aad: (m) => Python-style JSON of the six fields',
    build: (m) => Buffer.from(JSON.stringify(pick(m, METADATA_FIELDS)).replaceAll('","', '", "').replaceAll('":"', '": "'), 'utf8'),
  },
  {
    name: 'envelope JSON without data (retry_count included)',
    option: 'not configurable: retry_count changes on every retry',
    build: (_m, e) => {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e)) if (k !== 'data') copy[k] = v;
      return Buffer.from(JSON.stringify(copy), 'utf8');
    },
  },
  { name: 'key_id only', option: 'aad: (m) => m.key_id', build: (m) => Buffer.from(m.key_id, 'utf8') },
  { name: 'id only', option: 'aad: (m) => m.id', build: (m) => Buffer.from(m.id, 'utf8') },
  { name: 'id|timestamp', option: "aad: (m) => `${m.id}|${m.timestamp}`", build: (m) => Buffer.from(`${m.id}|${m.timestamp}`, 'utf8') },
];

/** One combination that authenticated. */
export interface DetectedFormat {
  layout: string;
  aad: string;
  option: string;
  /** True when the plaintext is also a UTF-8 JSON object (as payload 1.0 is). */
  jsonPayload: boolean;
}

/**
 * Tries every known layout and AAD construction on a captured envelope with its secret and
 * returns those that authenticate (normally exactly one). Decryption goes through the library's
 * own `decryptData` after reordering the bytes. Throws `WebhookError('INVALID_ENVELOPE' |
 * 'INVALID_JSON' | 'INVALID_KEY')` when the envelope or secret is malformed.
 *
 * @example
 * ```ts
 * const [match] = detectEnvelopeFormat(JSON.parse(captured), secret);
 * console.log(match ? `${match.layout} with ${match.aad}` : 'no known format');
 * ```
 */
export function detectEnvelopeFormat(envelope: unknown, secret: SharedSecret): DetectedFormat[] {
  const { metadata, dataBytes } = validateEnvelope(envelope);
  const found: DetectedFormat[] = [];
  for (const layout of DATA_LAYOUTS) {
    const { nonce, ciphertext, tag } = layout.split(dataBytes);
    const canonical = Buffer.concat([nonce, ciphertext, tag]);
    for (const candidate of AAD_CANDIDATES) {
      let plaintext: Buffer;
      try {
        plaintext = decryptData(secret, canonical, candidate.build(metadata, envelope as Record<string, unknown>));
      } catch (error) {
        if ((error as { code?: unknown }).code === 'DECRYPTION_FAILED') continue;
        throw error;
      }
      let jsonPayload = true;
      try {
        parseJsonObject(plaintext, 'INVALID_PAYLOAD');
      } catch {
        jsonPayload = false;
      }
      plaintext.fill(0);
      found.push({ layout: layout.name, aad: candidate.name, option: candidate.option, jsonPayload });
    }
  }
  return found;
}
