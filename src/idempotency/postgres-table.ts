// The PostgreSQL dedup table: its name checked as an identifier, its migration SQL, and a structural type for pg pools.
import { createHash } from 'node:crypto';
/** Default table of the PostgreSQL idempotency store and of `inPostgresTransaction`. */
const DEFAULT_POSTGRES_IDEMPOTENCY_TABLE = 'kompliant_webhook_idempotency';

/**
 * A statement as `pg` takes it: with a `name`, pg prepares it once per connection and reuses the
 * plan. The store and `inPostgresTransaction` pass the values as `query`'s second argument.
 */
export interface PostgresQuery {
  name?: string;
  text: string;
  values?: unknown[];
}

/**
 * What the store needs from a `pg` client or pool: `query({ name, text }, values)` resolving
 * `{ rows, rowCount }`. A wrapper must pass both arguments on.
 */
export interface PostgresQueryable {
  query(query: PostgresQuery, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/**
 * A statement for `query(statement(), values)`: `text`, named `kw_<table hash>_<what>` when
 * `prepare` is on (pg then plans it once per connection: a claim took about a sixth of the time
 * it took unprepared in one measurement), unnamed otherwise (for poolers that cannot keep
 * prepared statements, such as PgBouncer in transaction mode before 1.21). The name stays far
 * below PostgreSQL's 63 bytes whatever the table, and differs between tables (see {@link
 * PostgresTable.statementPrefix}).
 */
export function postgresStatement(prepare: boolean, what: string, table: PostgresTable, text: string): () => PostgresQuery {
  // pg (8.23) copies every query config's own properties, descriptor by descriptor (about 5 us a
  // query); name and text sit on a shared prototype, so each call's object has none to copy.
  const fixed: PostgresQuery = Object.freeze(prepare ? { name: `${table.statementPrefix}${what}`, text } : { text });
  return () => Object.create(fixed) as PostgresQuery;
}

/** Most expired rows deleted per claim (or per `inPostgresTransaction` delivery) on average, so the table needs no cron. */
export const POSTGRES_CLEANUP_BATCH = 10;

/** At most this many claims go by without a cleanup... */
export const POSTGRES_CLEANUP_EVERY = 16;

/** ...or this long (ms), whichever comes first. */
export const POSTGRES_CLEANUP_INTERVAL_MS = 1_000;

/**
 * Which claims also delete expired rows: the first, then one per {@link POSTGRES_CLEANUP_EVERY}
 * claims or per {@link POSTGRES_CLEANUP_INTERVAL_MS}, whichever comes first. The returned
 * function gives the number of rows the claim at hand may delete (0: none): {@link
 * POSTGRES_CLEANUP_BATCH} for every claim since the last cleanup, so the table is cleaned as
 * fast as when every claim deleted up to 10 rows, without a `DELETE` in most statements.
 */
export function postgresCleanupPacer(now: () => number = Date.now): () => number {
  let claims = 0;
  let last = -Infinity;
  return () => {
    claims += 1;
    const at = now();
    if (claims < POSTGRES_CLEANUP_EVERY && at - last < POSTGRES_CLEANUP_INTERVAL_MS) return 0;
    const batch = claims * POSTGRES_CLEANUP_BATCH;
    claims = 0;
    last = at;
    return batch;
  };
}

/** A client checked out of a pool (`pg.PoolClient`): queries (a plain string too), then `release()`. */
export interface PostgresPoolClient extends PostgresQueryable {
  query(query: PostgresQuery | string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
  /** Returns the client to the pool; with an error (or `true`) the pool destroys it instead. */
  release(destroy?: Error | boolean): void;
  /**
   * pg's clients are event emitters: a connection that ends while the client is checked out
   * (the server ended the session, a network cut) is an `'error'` event, which ends the process
   * when nobody listens. `inPostgresTransaction` listens for as long as it holds the client.
   */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** What `inPostgresTransaction` needs from a pool (`pg.Pool`): queries and `connect()` for a transaction's client. */
export interface PostgresPool extends PostgresQueryable {
  connect(): Promise<PostgresPoolClient>;
}

// Lower-case identifiers only, so the quoted name means what the same name unquoted means
// (PostgreSQL folds unquoted names to lower case); optionally schema-qualified.
const IDENTIFIER = '[a-z_][a-z0-9_]{0,62}';
const TABLE_NAME = new RegExp(`^(?:${IDENTIFIER}\\.)?${IDENTIFIER}$`);

/** A checked table name and its SQL spelling. */
export interface PostgresTable {
  /** The name as given (`schema.table` or `table`). */
  name: string;
  /** The quoted SQL spelling, `"schema"."table"`. */
  sql: string;
  /** The quoted name of the index on `expires_at`. */
  indexSql: string;
  /**
   * The start of this table's prepared-statement names: `kw_` and the first 12 hex digits of
   * the SHA-256 of {@link name}, then `_`. PostgreSQL cuts a statement name to 63 bytes, so
   * with longer names two tables whose long names share a beginning would collide on one
   * connection (`prepared statement ... already exists`).
   */
  statementPrefix: string;
}

/**
 * Checks `table` (default `kompliant_webhook_idempotency`): lower-case letters, digits
 * and `_`, starting with a letter or `_`, at most 63 characters, optionally `schema.table`.
 * Throws a TypeError naming `where` otherwise; the name is only ever spliced into SQL quoted.
 */
export function checkPostgresTable(table: unknown, where: string): PostgresTable {
  const name = table ?? DEFAULT_POSTGRES_IDEMPOTENCY_TABLE;
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
    throw new TypeError(`${where}: table must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters), optionally schema-qualified`);
  }
  const parts = name.split('.');
  const bare = parts[parts.length - 1]!;
  return {
    name,
    sql: parts.map((part) => `"${part}"`).join('.'),
    indexSql: `"${`${bare.slice(0, 63 - '_expires_at'.length)}_expires_at`}"`,
    statementPrefix: `kw_${createHash('sha256').update(name).digest('hex').slice(0, 12)}_`,
  };
}

/**
 * The migration creating the dedup table (idempotent: `IF NOT EXISTS`). One row per event id:
 * the token of the delivery holding or having finished it, whether it is done, and when the row
 * stops counting (lease end while in progress, retention end once done). The index on
 * `expires_at` lets claims delete expired rows a few at a time, so the table needs no cron.
 *
 * @param table - The table name, optionally `schema.table`; default `kompliant_webhook_idempotency`.
 */
export function idempotencyTableSql(table?: string): string {
  const t = checkPostgresTable(table, 'idempotencyTableSql');
  return `CREATE TABLE IF NOT EXISTS ${t.sql} (
  id text PRIMARY KEY,
  token text NOT NULL,
  done boolean NOT NULL DEFAULT false,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${t.indexSql} ON ${t.sql} (expires_at);`;
}

/**
 * Runs the migration ({@link idempotencyTableSql}) on `pool`: creates the dedup table and its
 * index unless they exist. Call it once at start-up or copy the SQL into your migrations.
 * `options.table` names the table, optionally `schema.table`; default `kompliant_webhook_idempotency`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createIdempotencyTable } from 'kompliant-webhooks/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await createIdempotencyTable(pool);
 * ```
 */
export async function createIdempotencyTable(pool: PostgresQueryable, options: { table?: string } = {}): Promise<void> {
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function') {
    throw new TypeError('createIdempotencyTable: pool must be a pg Pool or Client (an object with a query method)');
  }
  await pool.query({ text: idempotencyTableSql(options.table) });
}
