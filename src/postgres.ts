/**
 * PostgreSQL integrations of kompliant-webhooks, from `kompliant-webhooks/postgres`: a shared
 * idempotency store, and `inPostgresTransaction` for exactly-once effects. You create the `pg`
 * pool (an optional peer dependency) and pass it in; this module never imports `pg`.
 *
 * @packageDocumentation
 */
export { postgresIdempotencyStore, POSTGRES_CLEANUP_BATCH } from './idempotency/postgres.js';
export type { PostgresIdempotencyStoreOptions } from './idempotency/postgres.js';
export { inPostgresTransaction, DEFAULT_POSTGRES_LOCK_TIMEOUT_MS, DEFAULT_POSTGRES_TRANSACTION_TIMEOUT_MS } from './idempotency/postgres-transaction.js';
export type { InPostgresTransactionOptions, PostgresClientOf } from './idempotency/postgres-transaction.js';
export { createIdempotencyTable, idempotencyTableSql, DEFAULT_POSTGRES_IDEMPOTENCY_TABLE } from './idempotency/postgres-table.js';
export type { PostgresPool, PostgresPoolClient, PostgresQuery, PostgresQueryable } from './idempotency/postgres-table.js';
