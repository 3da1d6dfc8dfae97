// startInboxWorker: takes inbox jobs from pg-boss, opens each envelope again and runs the handler.
import { createWebhookReceiver, type ReceiverOptions } from '../../receiver/receiver.js';
import type { PayloadSchemas, SchemaEvent } from '../../receiver/payload-schemas.js';
import { checkFunction } from '../../options/checks.js';
import { WebhookError } from '../../wire/errors.js';
import { checkBoss, checkQueueName, ensureQueues, resolveQueueOptions, type InboxQueueOptions, type PgBossJob, type PgBossLike } from './boss.js';

/** Options of {@link startInboxWorker}. */
export interface InboxWorkerOptions<TSchemas extends PayloadSchemas = {}>
  extends InboxQueueOptions,
    Pick<ReceiverOptions<TSchemas>, 'keyStore' | 'cache' | 'keyStoreTimeoutMs' | 'schemas' | 'idempotency' | 'logger' | 'stats' | 'aad' | 'layout' | 'accounts'> {
  /** Your started `PgBoss` instance. */
  boss: PgBossLike;
  /** The queue the inbox writes to. Default `kompliant-webhooks`. */
  queue?: string;
  /**
   * Runs once per job; a throw or rejection fails the attempt and pg-boss retries it (after
   * `retryLimit` retries the job moves to `<queue>.dead`). Use `router.handle` for a router.
   */
  onEvent: (event: SchemaEvent<TSchemas>) => unknown;
  /** Jobs run at once in this process. Default 4. */
  concurrency?: number;
  /** How often an idle worker asks for jobs, in seconds (pg-boss `pollingIntervalSeconds`). Default 2. */
  pollingIntervalSeconds?: number;
}

/** A running inbox worker. */
export interface InboxWorker {
  /**
   * Stops taking jobs and waits for the ones in flight, up to `timeoutMs` (default 30 s); a job
   * still running then is retried by pg-boss once it expires.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Starts a worker for the inbox queue: each job's envelope is opened again with `keyStore` (the
 * queue never holds plaintext), checked against `schemas`, and handed to `onEvent`. Retries,
 * backoff, concurrency and dead-lettering are pg-boss's; the time limit of one attempt is the
 * queue's `expireInSeconds`, not the sender's 30 s. A key missing from the store fails the job
 * with `UNKNOWN_KEY`, so it is retried and then dead-lettered, never dropped. Delivery to the
 * handler is at least once (a worker killed mid-job runs it again after expiry): for
 * exactly-once effects write them with `inPostgresTransaction` from `kompliant-webhooks/postgres`.
 * No idempotency store is used unless you pass one, so a replayed job runs the handler again.
 * With `kompliant-webhooks/otel` installed, each job's span links to the receiver span that
 * enqueued it (the job keeps its `traceparent`).
 *
 * @example
 * ```ts
 * import { PgBoss } from 'pg-boss';
 * import { envKeyStore } from 'kompliant-webhooks';
 * import { startInboxWorker } from 'kompliant-webhooks/pg-boss';
 *
 * const boss = new PgBoss(process.env.DATABASE_URL!);
 * await boss.start();
 * const worker = await startInboxWorker({ boss, keyStore: envKeyStore(), onEvent: async (event) => console.log(event.event_type) });
 * process.once('SIGTERM', () => void worker.stop().then(() => boss.stop()));
 * ```
 */
export async function startInboxWorker<TSchemas extends PayloadSchemas = {}>(options: InboxWorkerOptions<TSchemas>): Promise<InboxWorker> {
  if (typeof options !== 'object' || options === null) throw new TypeError('startInboxWorker: options must be an object');
  const { boss: bossOption, queue: queueOption, onEvent: onEventOption, concurrency: concurrencyOption, pollingIntervalSeconds = 2, ...rest } = options;
  const boss: PgBossLike = checkBoss(bossOption, 'startInboxWorker');
  const queue = checkQueueName(queueOption, 'startInboxWorker: queue');
  const onEvent = checkFunction<(event: SchemaEvent<TSchemas>) => unknown>(onEventOption, 'onEvent');
  if (onEvent === undefined) throw new TypeError('startInboxWorker: onEvent is required');
  const concurrency = concurrencyOption ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('startInboxWorker: concurrency must be an integer >= 1');
  if (typeof pollingIntervalSeconds !== 'number' || !(pollingIntervalSeconds >= 0.5)) {
    throw new TypeError('startInboxWorker: pollingIntervalSeconds must be a number >= 0.5');
  }
  const { retryLimit, retryDelaySeconds, retryDelayMaxSeconds, expireInSeconds, retentionSeconds, orderBySubject, ...receiverOptions } = rest;
  const settings = resolveQueueOptions(
    { retryLimit, retryDelaySeconds, retryDelayMaxSeconds, expireInSeconds, retentionSeconds, orderBySubject },
    'startInboxWorker',
  );
  // The attempt's own limit (the whole delivery's and the handler's) sits just inside pg-boss's expiry, so the handler is given up before pg-boss retries the job.
  const handlerTimeoutMs = Math.max(1000, settings.expireInSeconds * 1000 - 1000);
  const deliveryTimeoutMs = handlerTimeoutMs;
  // pg-boss already runs one job per event id; no dedup store by default, so a replayed job runs again.
  const receiver = createWebhookReceiver<TSchemas>({ ...receiverOptions, idempotency: receiverOptions.idempotency ?? false, handlerTimeoutMs, deliveryTimeoutMs } as ReceiverOptions<TSchemas>);
  await ensureQueues(boss, queue, settings);

  const runJob = async (job: PgBossJob): Promise<void> => {
    const data = job.data as { envelope?: unknown; traceparent?: unknown; tracestate?: unknown } | null;
    if (typeof data !== 'object' || data === null || typeof data.envelope !== 'object' || data.envelope === null) {
      // Not written by an inbox: fail it (retried, then dead-lettered) rather than drop it.
      throw new WebhookError('INVALID_ENVELOPE', { message: `Inbox job ${job.id} holds no envelope` });
    }
    // The receiver span's trace context, when it had one: the processing span links to it (a malformed one is ignored).
    const traceLink = { traceparent: data.traceparent, tracestate: data.tracestate };
    await receiver.handle(data.envelope, onEvent as (event: SchemaEvent<TSchemas>) => unknown, { traceLink });
  };
  const workerId = await boss.work(queue, { batchSize: 1, localConcurrency: concurrency, pollingIntervalSeconds }, async (jobs) => {
    for (const job of jobs) await runJob(job);
  });
  let stopped: Promise<void> | undefined;
  return {
    stop(stopOptions) {
      const timeoutMs = stopOptions?.timeoutMs ?? 30_000;
      stopped ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        });
        try {
          await Promise.race([boss.offWork(queue, { id: workerId, wait: true }), timeout]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopped;
    },
  };
}
