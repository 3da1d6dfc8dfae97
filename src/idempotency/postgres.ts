// A PostgreSQL-backed idempotency store: claims with tokens and leases in one table, expired rows cleaned as claims go.
import { checkOptionNames } from '../options/checks.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';
import { checkPostgresTable, postgresCleanupPacer, postgresStatement, type PostgresQuery, type PostgresQueryable } from './postgres-table.js';

/** Options of {@link postgresIdempotencyStore}. */
export interface PostgresIdempotencyStoreOptions {
  /** A `pg` Pool (or anything with pg's `query(config, values)`); you create it, this module never imports `pg`. Required. */
  pool: PostgresQueryable;
  /**
   * The dedup table (see `createIdempotencyTable`).
   *
   * @defaultValue `'kompliant_webhook_idempotency'`
   */
  table?: string;
  /**
   * Whether the statements are named, so pg prepares each once per connection. Turn it off
   * behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode before
   * 1.21). Default true.
   */
  prepare?: boolean;
}

/**
 * The store's statements for `table` (the claim in two forms, with and without a cleanup). Times come from the database clock (`now()`), so
 * receivers with skewed clocks agree on every lease.
 */
function statements(table: string) {
  const ms = (param: string): string => `now() + ${param}::bigint * interval '1 millisecond'`;
  // Take the id if it is free or expired, else say whether it is done. A row a concurrent claim
  // inserted after this statement's snapshot reads as in progress.
  const claim = `taken AS (
  INSERT INTO ${table} AS t (id, token, done, expires_at) VALUES ($1, $2, false, ${ms('$3')})
  ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, done = false, expires_at = EXCLUDED.expires_at
  WHERE t.expires_at <= now()
  RETURNING 1
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM taken) THEN 'claimed'
  WHEN (SELECT done FROM ${table} WHERE id = $1) THEN 'done' ELSE 'in_progress' END AS result`;
  return {
    claim: `WITH ${claim}`,
    // The same claim, deleting up to $4 expired rows of other ids on its way (skipping rows
    // others hold locked); see postgresCleanupPacer for which claims do.
    'claim-cleanup': `WITH cleanup AS (
  DELETE FROM ${table} WHERE id IN (
    SELECT id FROM ${table} WHERE expires_at < now() AND id <> $1 ORDER BY expires_at LIMIT $4 FOR UPDATE SKIP LOCKED)
), ${claim}`,
    renew: `UPDATE ${table} SET expires_at = ${ms('$3')} WHERE id = $1 AND token = $2 AND NOT done`,
    // Done when this token holds the row (lapsed or not), or when no row is left (an expired
    // claim that a cleanup deleted: nobody claimed the id since).
    complete: `INSERT INTO ${table} AS t (id, token, done, expires_at) VALUES ($1, $2, true, ${ms('$3')})
ON CONFLICT (id) DO UPDATE SET done = true, expires_at = EXCLUDED.expires_at WHERE t.token = EXCLUDED.token`,
    release: `DELETE FROM ${table} WHERE id = $1 AND token = $2 AND NOT done`,
  };
}

/**
 * An {@link IdempotencyStore} in PostgreSQL, from `kompliant-webhooks/postgres`, for teams whose
 * data already lives there: several receiver instances deduplicate together and done ids
 * survive restarts. Each call is one statement on the pool (one round trip):
 *
 * - `claim` inserts the id, or takes over a row whose lease or retention ended, atomically
 *   (`INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <= now()`); one claim in 16 (or
 *   the first after a second without one) also deletes expired rows of other ids on the way,
 *   up to 10 per claim since the last cleanup;
 * - `renew` extends the lease while the token holds an unfinished claim;
 * - `complete` marks the id done for `ttlMs` when the token holds the row, even past its lease,
 *   unless another delivery claimed the id since;
 * - `release` deletes the row if the token holds an unfinished claim.
 *
 * Create the table first with `createIdempotencyTable(pool)` or the SQL in the docs. Errors of
 * the pool (connection refused, timeouts) reject, and the receiver answers 500 so Kompliant
 * retries; give the pool a `connectionTimeoutMillis` and `query_timeout` so no call waits forever.
 * For handlers whose effects live in the same database, `inPostgresTransaction` is stronger.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createIdempotencyTable, postgresIdempotencyStore } from 'kompliant-webhooks/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000, query_timeout: 5000 });
 * await createIdempotencyTable(pool);
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, idempotency: postgresIdempotencyStore({ pool }), onEvent }));
 * ```
 */
export function postgresIdempotencyStore(options: PostgresIdempotencyStoreOptions): IdempotencyStore {
  const where = 'postgresIdempotencyStore';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  checkOptionNames(options, ['pool', 'table', 'prepare'], where);
  const { pool } = options;
  if (typeof pool !== 'object' || pool === null || typeof (pool as { query?: unknown }).query !== 'function') {
    throw new TypeError(`${where}: pool must be a pg Pool (an object with a query method)`);
  }
  const table = checkPostgresTable(options.table, where);
  const sql = statements(table.sql);
  if (options.prepare !== undefined && typeof options.prepare !== 'boolean') throw new TypeError(`${where}: prepare must be a boolean`);
  const prepare = options.prepare ?? true;
  const named = Object.fromEntries(Object.entries(sql).map(([what, text]) => [what, postgresStatement(prepare, what, table, text)])) as Record<keyof typeof sql, () => PostgresQuery>;
  const query = (what: keyof typeof sql, values: unknown[]) => pool.query(named[what](), values);
  const cleanup = postgresCleanupPacer();

  return {
    async claim(id, token, leaseMs): Promise<ClaimResult> {
      const batch = cleanup();
      const lease = Math.ceil(leaseMs);
      const { rows } = await (batch === 0 ? query('claim', [id, token, lease]) : query('claim-cleanup', [id, token, lease, batch]));
      const result = (rows[0] as { result?: unknown } | undefined)?.result;
      if (result === 'claimed' || result === 'in_progress' || result === 'done') return result;
      throw new Error('Unexpected reply from PostgreSQL');
    },
    async renew(id, token, leaseMs): Promise<boolean> {
      const { rowCount } = await query('renew', [id, token, Math.ceil(leaseMs)]);
      return rowCount === 1;
    },
    async complete(id, token, ttlMs) {
      await query('complete', [id, token, Math.ceil(ttlMs)]);
    },
    async release(id, token) {
      await query('release', [id, token]);
    },
  };
}
