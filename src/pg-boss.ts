/**
 * The inbox on PostgreSQL through pg-boss, from `kompliant-webhooks/pg-boss`: the receiver stores
 * each verified envelope (still encrypted) as a job and answers 200 at once; a worker opens it
 * again and runs the handler with pg-boss's retries, backoff and dead-letter queue. You create
 * and start the `PgBoss` instance (pg-boss 12 or later, an optional peer); this module never
 * imports it.
 *
 * @packageDocumentation
 */
export { pgBossInbox } from './integrations/pg-boss/inbox.js';
export type { PgBossInboxOptions } from './integrations/pg-boss/inbox.js';
export { startInboxWorker } from './integrations/pg-boss/worker.js';
export type { InboxWorker, InboxWorkerOptions } from './integrations/pg-boss/worker.js';
export type { InboxQueueOptions, PgBossJob, PgBossLike } from './integrations/pg-boss/boss.js';
export type { Inbox, InboxMeta } from './inbox/inbox.js';
