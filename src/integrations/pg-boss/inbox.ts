// pgBossInbox: the receiver's Inbox on a pg-boss queue.
import { inboxJob, type Inbox } from '../../inbox/inbox.js';
import { checkBoss, checkQueueName, ensureQueues, resolveQueueOptions, type InboxQueueOptions, type PgBossLike } from './boss.js';

/** Options of {@link pgBossInbox}. */
export interface PgBossInboxOptions extends InboxQueueOptions {
  /** Your started `PgBoss` instance. */
  boss: PgBossLike;
  /** The queue name. Default `kompliant-webhooks`; its dead-letter queue is `<queue>.dead`. */
  queue?: string;
}

/**
 * An {@link Inbox} that stores each verified envelope, still encrypted, as a pg-boss job, and
 * resolves once PostgreSQL committed it. The job id is derived from `(account_id, id)`, so a
 * retried or racing delivery of one event leaves one job. The queue and its dead-letter queue
 * are created at the first enqueue when missing, with retries and exponential backoff.
 *
 * @example
 * ```ts
 * import { PgBoss } from 'pg-boss';
 * import { kompliantWebhook, envKeyStore } from 'kompliant-webhooks';
 * import { pgBossInbox } from 'kompliant-webhooks/pg-boss';
 *
 * const boss = new PgBoss(process.env.DATABASE_URL!);
 * await boss.start();
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore: envKeyStore(), inbox: pgBossInbox({ boss }) }));
 * ```
 */
export function pgBossInbox(options: PgBossInboxOptions): Inbox {
  if (typeof options !== 'object' || options === null) throw new TypeError('pgBossInbox: options must be an object');
  const boss = checkBoss(options.boss, 'pgBossInbox');
  const queue = checkQueueName(options.queue, 'pgBossInbox: queue');
  const settings = resolveQueueOptions(options, 'pgBossInbox');
  let ready: Promise<void> | undefined;
  return {
    async enqueue(envelope, meta) {
      // A failed creation is tried again by the next delivery instead of failing every later one.
      ready ??= ensureQueues(boss, queue, settings).catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      await ready;
      const sendOptions: Record<string, unknown> = { id: meta.jobId };
      if (settings.orderBySubject) sendOptions.singletonKey = meta.subjectRecordId ?? meta.eventId;
      // null means a job with this id exists already: the event is queued once, which is the point.
      await boss.send(queue, { ...inboxJob(envelope, meta) }, sendOptions);
    },
  };
}
