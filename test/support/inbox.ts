// Inbox test helpers: the metadata a receiver would give an engine, and polling until a queue settles.
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

/** Reads until `done` holds (every 50 ms, 30 s at most), then returns the last value read. */
export async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
