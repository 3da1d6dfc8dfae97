/** Event types Kompliant documents today. Unknown types are still delivered. */
export type KnownEventType = 'WORKFLOW_COMPLETED' | 'DOCUMENT_UPLOADED';

/**
 * An `event_type`: one of the documented names (for autocompletion) or any other string,
 * since new types are passed on, not rejected.
 */
// The `string & {}` keeps the literal members visible to editors instead of collapsing to string.
export type EventType = KnownEventType | (string & {});

/** Who triggered the event (payload 1.0). */
export interface UserContext {
  user_id: string;
  user_type: 'USER' | 'API_KEY' | 'SYSTEM' | (string & {});
}

/**
 * The decrypted `data` of payload version 1.0 (spec section 3). Event-specific fields are
 * allowed beside the common ones.
 */
export interface PayloadV1 {
  version: '1.0' | (string & {});
  subject_record_id: string;
  user_context: UserContext;
  workflow_id?: string;
  workflow_type?: string;
  [field: string]: unknown;
}

/**
 * The envelope fields the sender authenticates through the AAD (everything but `data` and
 * `retry_count`), exactly as received.
 */
export interface EnvelopeMetadata {
  id: string;
  event_type: EventType;
  timestamp: string;
  account_id: string;
  schema_version: string;
  key_id: string;
}

/** The JSON envelope as Kompliant POSTs it: metadata, base64 `data`, `retry_count`. */
export interface KompliantEnvelope extends EnvelopeMetadata {
  /** base64( nonce(12) || ciphertext || tag(16) ). */
  data: string;
  /** 0 on the first attempt; not authenticated. */
  retry_count?: number;
}

/**
 * A verified, decrypted Kompliant event: the envelope with `data` replaced by the decrypted
 * object. Only the known envelope fields are copied; unknown envelope fields are dropped since
 * nothing authenticates them. `retry_count` is 0 when the sender omitted it.
 *
 * @example
 * ```ts
 * function handle(event: KompliantEvent) {
 *   if (event.event_type === 'WORKFLOW_COMPLETED') console.log(event.data.subject_record_id);
 * }
 * ```
 */
export interface KompliantEvent<TData = PayloadV1> extends EnvelopeMetadata {
  data: TData;
  retry_count: number;
}
