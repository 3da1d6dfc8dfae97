// Inbox test helpers: the metadata a receiver would give an engine.
import { inboxJobId, type InboxMeta } from '../../src/inbox/inbox.js';
import type { KompliantEnvelope } from '../../src/index.js';

/** The InboxMeta the receiver builds for `envelope` (its subject as given). */
export function inboxMetaOf(envelope: KompliantEnvelope, extra: Partial<InboxMeta> = {}): InboxMeta {
  return {
    jobId: inboxJobId(envelope.account_id, envelope.id),
    accountId: envelope.account_id,
    eventId: envelope.id,
    eventType: envelope.event_type,
    keyId: envelope.key_id,
    subjectRecordId: undefined,
    receivedAt: new Date(),
    ...extra,
  };
}
