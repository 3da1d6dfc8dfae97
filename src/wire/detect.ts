// Finds which payload layout and AAD construction authenticate an envelope, for the `detect` command.
import { decryptData } from './aes-gcm.js';
import { DATA_LAYOUTS, DEFAULT_DATA_LAYOUT, type DataLayoutName } from './data-layout.js';
import { defaultAad, validateEnvelope } from './envelope.js';
import type { EnvelopeMetadata } from './event.js';
import { parseJsonObject } from './json.js';
import type { SharedSecret } from './secret.js';

/** An AAD construction candidate. */
export interface AadCandidate {
  name: string;
  /** How to configure the receiver for it. */
  option: string;
  /**
   * False when the construction leaves part of the metadata (`id`, `event_type`, `timestamp`,
   * `account_id`, `schema_version`, `key_id`) unauthenticated: using it is a choice, not a fix.
   */
  coversMetadata: boolean;
  build(metadata: EnvelopeMetadata, envelope: Record<string, unknown>): Buffer;
}

const METADATA_FIELDS = ['id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'key_id'] as const;
const SORTED_METADATA_FIELDS = ['account_id', 'event_type', 'id', 'key_id', 'schema_version', 'timestamp'] as const;

function pick(metadata: EnvelopeMetadata, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fields) out[f] = metadata[f as keyof EnvelopeMetadata];
  return out;
}

/** The AAD constructions tried by {@link detectEnvelopeFormat}; the first is the spec's. */
export const AAD_CANDIDATES: readonly AadCandidate[] = [
  { name: 'default (JSON of the six metadata fields, spec order)', option: "aad: 'default'", coversMetadata: true, build: (m) => defaultAad(m) },
  { name: 'none (empty AAD)', option: "aad: 'none'", coversMetadata: false, build: () => Buffer.alloc(0) },
  {
    name: 'metadata JSON with sorted keys',
    option: 'aad: (m) => JSON.stringify(sorted keys of the six fields)',
    coversMetadata: true,
    build: (m) => Buffer.from(JSON.stringify(pick(m, SORTED_METADATA_FIELDS)), 'utf8'),
  },
  {
    name: "metadata JSON with ', ' and ': ' separators (Python json.dumps)",
    option: 'aad: (m) => Python-style JSON of the six fields',
    coversMetadata: true,
    build: (m) => Buffer.from(JSON.stringify(pick(m, METADATA_FIELDS)).replaceAll('","', '", "').replaceAll('":"', '": "'), 'utf8'),
  },
  {
    name: 'envelope JSON without data (retry_count included)',
    option: 'not configurable: retry_count changes on every retry',
    coversMetadata: true,
    build: (_m, e) => {
      const copy: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(e)) if (k !== 'data') copy[k] = v;
      return Buffer.from(JSON.stringify(copy), 'utf8');
    },
  },
  { name: 'key_id only', option: 'aad: (m) => m.key_id', coversMetadata: false, build: (m) => Buffer.from(m.key_id, 'utf8') },
  { name: 'id only', option: 'aad: (m) => m.id', coversMetadata: false, build: (m) => Buffer.from(m.id, 'utf8') },
  { name: 'id|timestamp', option: "aad: (m) => `${m.id}|${m.timestamp}`", coversMetadata: false, build: (m) => Buffer.from(`${m.id}|${m.timestamp}`, 'utf8') },
];

// The layouts are defined once, in the core, so a match's name is the receiver's option value.
export { DATA_LAYOUTS };
export type { DataLayout } from './data-layout.js';

/** One combination that authenticated. */
export interface DetectedFormat {
  /** The layout's name: the value of the receiver's `layout` option. */
  layout: DataLayoutName;
  aad: string;
  /** How to configure the AAD for it. */
  option: string;
  /**
   * How to configure the layout, e.g. `layout: 'nonce-tag-ciphertext'`; `undefined` for the
   * default layout, which needs no option.
   */
  layoutOption?: string;
  /** True when the plaintext is also a UTF-8 JSON object (as payload 1.0 is). */
  jsonPayload: boolean;
}

/**
 * Tries every known layout and AAD construction on a captured envelope with its secret and
 * returns those that authenticate (normally exactly one). Decryption goes through the library's
 * own `decryptData` with each layout, exactly as a receiver configured with that `layout` would
 * decrypt. Throws `WebhookError('INVALID_ENVELOPE' |
 * 'INVALID_JSON' | 'INVALID_KEY')` when the envelope or secret is malformed.
 *
 * @example
 * ```ts
 * const [match] = detectEnvelopeFormat(JSON.parse(captured), secret);
 * console.log(match ? `${match.layout} with ${match.aad}` : 'no known format');
 * // then: createWebhookReceiver({ keyStore, layout: match.layout })
 * ```
 */
export function detectEnvelopeFormat(envelope: unknown, secret: SharedSecret): DetectedFormat[] {
  const { metadata, dataBytes } = validateEnvelope(envelope);
  const found: DetectedFormat[] = [];
  for (const layout of DATA_LAYOUTS) {
    for (const candidate of AAD_CANDIDATES) {
      let plaintext: Buffer;
      try {
        plaintext = decryptData(secret, dataBytes, candidate.build(metadata, envelope as Record<string, unknown>), layout.name);
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
      found.push({
        layout: layout.name,
        aad: candidate.name,
        option: candidate.option,
        ...(layout.name === DEFAULT_DATA_LAYOUT ? {} : { layoutOption: `layout: '${layout.name}'` }),
        jsonPayload,
      });
    }
  }
  return found;
}
