/**
 * PostgreSQL integrations of kompliant-webhooks, from `kompliant-webhooks/postgres`: a shared
 * idempotency store, and `inPostgresTransaction` for exactly-once effects. You create the `pg`
 * pool (an optional peer dependency) and pass it in; this module never imports `pg`.
 *
 * @packageDocumentation
 */
export { postgresIdempotencyStore } from './idempotency/postgres.js';
export type { PostgresIdempotencyStoreOptions } from './idempotency/postgres.js';
export { inPostgresTransaction } from './idempotency/postgres-transaction.js';
export type { InPostgresTransactionOptions, PostgresClientOf } from './idempotency/postgres-transaction.js';
export { createIdempotencyTable, idempotencyTableSql } from './idempotency/postgres-table.js';
export type { PostgresPool, PostgresPoolClient, PostgresQuery, PostgresQueryable } from './idempotency/postgres-table.js';
