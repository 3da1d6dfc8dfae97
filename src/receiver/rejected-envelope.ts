// Remembers which envelope a rejection came from, so a rejection after validation can be logged with its (unauthenticated) identifiers.
import type { EnvelopeMetadata } from '../wire/event.js';

const envelopes = new WeakMap<object, EnvelopeMetadata>();

/**
 * Records that `error` was raised for the envelope with `metadata` (which passed the envelope
 * rules but is not authenticated unless decryption succeeded) and returns `error`.
 */
export function tagRejection(error: unknown, metadata: EnvelopeMetadata): unknown {
  if (typeof error === 'object' && error !== null && !envelopes.has(error)) envelopes.set(error, metadata);
  return error;
}

/** The metadata of the envelope `error` was raised for, when it got past the envelope rules. */
export function rejectedEnvelope(error: unknown): EnvelopeMetadata | undefined {
  return typeof error === 'object' && error !== null ? envelopes.get(error) : undefined;
}
