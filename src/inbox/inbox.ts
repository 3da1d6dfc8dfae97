// The inbox contract: the receiver hands a verified envelope, still encrypted, to a durable queue.
import { createHash } from 'node:crypto';
import type { ValidatedEnvelope } from '../wire/envelope.js';
import { isWebhookError, WebhookError } from '../wire/errors.js';
import type { KompliantEnvelope, KompliantEvent } from '../wire/event.js';
import { withDeadline } from '../delivery/deadline.js';
import { parseTraceContext, type TraceContext } from '../delivery/channel.js';

/**
 * What the receiver knows about an envelope it hands to an {@link Inbox}: the authenticated
 * metadata (already checked: the envelope opened with the stored key), never the plaintext.
 */
export interface InboxMeta {
  /** A deterministic id for this `(account_id, id)`: every delivery of one event maps to it. */
  jobId: string;
  /** The envelope's `account_id`. */
  accountId: string;
  /** The envelope's `id`. */
  eventId: string;
  /** The envelope's `event_type`. */
  eventType: string;
  /** The envelope's `key_id`: the key the worker needs to open it again. */
  keyId: string;
  /**
   * The decrypted `subject_record_id`, for engines that order per subject. It is an identifier,
   * not personal data; an engine stores it only when per-subject ordering is on.
   */
  subjectRecordId: string | undefined;
  /** When the receiver accepted the delivery. */
  receivedAt: Date;
  /**
   * The W3C `traceparent` of the receiver's delivery span, when a tracer on the delivery channel
   * set one (`kompliant-webhooks/otel` does): store it with the job and pass it to the worker's
   * `receiver.handle(body, handler, { traceLink })` so the worker's span links to the receiver's.
   */
  traceparent?: string;
  /** The W3C `tracestate` that goes with `traceparent`, when there is one. */
  tracestate?: string;
}

/**
 * A durable queue the receiver writes verified envelopes to before answering 200. `enqueue`
 * resolves only once the engine confirmed the write; a rejection makes the receiver answer
 * `500 HANDLER_FAILED` (a write past the handler deadline `503 HANDLER_TIMEOUT`), so the sender
 * delivers again. Enqueueing the same `meta.jobId` twice must leave one job (a deterministic job
 * id or the engine's deduplication).
 *
 * @example
 * ```ts
 * import type { Inbox } from 'kompliant-webhooks';
 * import { Queue } from 'bullmq';
 *
 * const queue = new Queue('kompliant');
 * const inbox: Inbox = {
 *   async enqueue(envelope, meta) {
 *     await queue.add('event', { envelope }, { jobId: meta.jobId, attempts: 10, backoff: { type: 'exponential', delay: 1000 } });
 *   },
 * };
 * ```
 */
export interface Inbox {
  enqueue(envelope: KompliantEnvelope, meta: InboxMeta): Promise<void>;
}

/** The job an inbox stores: the envelope exactly as received (ciphertext) and its metadata. */
export interface InboxJob {
  envelope: KompliantEnvelope;
  accountId: string;
  eventId: string;
  eventType: string;
  keyId: string;
  receivedAt: string;
  /** The receiver span's W3C trace context (see {@link InboxMeta.traceparent}). */
  traceparent?: string;
  tracestate?: string;
}

/**
 * The job id of an event: a UUID (version 8, name-based) derived from SHA-256 of `account_id`
 * and `id`, so retries and racing deliveries of one event become one job in any engine that
 * takes a caller's id.
 */
export function inboxJobId(accountId: string, eventId: string): string {
  const hex = createHash('sha256').update(`kompliant-webhooks/inbox\0${accountId}\0${eventId}`).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The job stored for `envelope` (no plaintext: the envelope as received plus its metadata). */
export function inboxJob(envelope: KompliantEnvelope, meta: InboxMeta): InboxJob {
  const job: InboxJob = {
    envelope: storedEnvelope(envelope),
    accountId: meta.accountId,
    eventId: meta.eventId,
    eventType: meta.eventType,
    keyId: meta.keyId,
    receivedAt: meta.receivedAt.toISOString(),
  };
  if (meta.traceparent !== undefined) job.traceparent = meta.traceparent;
  if (meta.tracestate !== undefined) job.tracestate = meta.tracestate;
  return job;
}

/** The envelope as an inbox stores it: only the known fields (unknown ones are unauthenticated). */
export function storedEnvelope(envelope: KompliantEnvelope): KompliantEnvelope {
  const copy: KompliantEnvelope = {
    id: envelope.id,
    event_type: envelope.event_type,
    timestamp: envelope.timestamp,
    account_id: envelope.account_id,
    schema_version: envelope.schema_version,
    key_id: envelope.key_id,
    data: envelope.data,
  };
  if (envelope.retry_count !== undefined) copy.retry_count = envelope.retry_count;
  return copy;
}

/** An in-memory {@link Inbox} for unit tests: what the receiver enqueued, one job per job id. */
export interface MemoryInbox extends Inbox {
  /** The jobs, in the order they were first enqueued. */
  readonly jobs: readonly InboxJob[];
  /** While true, `enqueue` rejects (an engine outage): the receiver answers 503. */
  failing: boolean;
  /** Empties the inbox. */
  clear(): void;
}

/**
 * Creates an in-memory inbox for tests (from `kompliant-webhooks/testing`). It keeps one job per
 * job id, as the real engines do, and can be made to fail.
 *
 * @example
 * ```ts
 * const inbox = memoryInbox();
 * const app = express().post('/webhooks/kompliant', kompliantWebhook({ keyStore, inbox }));
 * // ... send a webhook, then:
 * expect(inbox.jobs).toHaveLength(1);
 * ```
 */
export function memoryInbox(): MemoryInbox {
  const byId = new Map<string, InboxJob>();
  return {
    failing: false,
    get jobs() {
      return [...byId.values()];
    },
    clear() {
      byId.clear();
    },
    enqueue(envelope, meta) {
      if (this.failing) return Promise.reject(new Error('memoryInbox: failing is set'));
      if (!byId.has(meta.jobId)) byId.set(meta.jobId, inboxJob(envelope, meta));
      return Promise.resolve();
    },
  };
}

/**
 * Hands a verified envelope to `inbox` within `timeoutMs`: the envelope as received (its
 * authenticated metadata and the ciphertext, never the plaintext) and its metadata. A rejection
 * is `HANDLER_FAILED` (500) and a missed deadline `HANDLER_TIMEOUT` (503): the sender retries, and
 * the job id keeps a retry that races a late write to one job. `trace` is the receiver span's
 * context, when a tracer set one: it travels in the meta so the worker can link to it.
 */
export async function enqueueVerified(
  inbox: Inbox,
  envelope: ValidatedEnvelope,
  event: KompliantEvent<unknown>,
  timeoutMs: number,
  trace?: TraceContext,
): Promise<void> {
  const { metadata } = envelope;
  const original: KompliantEnvelope = { ...metadata, data: envelope.dataBytes.toString('base64'), retry_count: envelope.retryCount };
  const subject = (event.data as { subject_record_id?: unknown } | null)?.subject_record_id;
  const meta: InboxMeta = {
    jobId: inboxJobId(metadata.account_id, metadata.id),
    accountId: metadata.account_id,
    eventId: metadata.id,
    eventType: metadata.event_type,
    keyId: metadata.key_id,
    subjectRecordId: typeof subject === 'string' ? subject : undefined,
    receivedAt: new Date(),
  };
  // Set by whichever tracer subscribed to the channel: checked like a value read from a queue.
  const checked = trace === undefined ? undefined : parseTraceContext(trace.traceparent, trace.tracestate);
  if (checked !== undefined) {
    meta.traceparent = checked.traceparent;
    if (checked.tracestate !== undefined) meta.tracestate = checked.tracestate;
  }
  try {
    await withDeadline(
      () => inbox.enqueue(original, meta),
      timeoutMs,
      () => new WebhookError('HANDLER_TIMEOUT', { message: 'The inbox did not confirm the write in time' }),
    );
  } catch (error) {
    if (isWebhookError(error)) throw error;
    throw new WebhookError('HANDLER_FAILED', { message: 'The inbox could not store the event', cause: error });
  }
}

/** Checks the `inbox` option: an object with an `enqueue` function. */
export function checkInbox(value: unknown): Inbox | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as { enqueue?: unknown }).enqueue !== 'function') {
    throw new TypeError('inbox must be an object with an enqueue(envelope, meta) method (pgBossInbox, sqsInbox or your own)');
  }
  return value as Inbox;
}
