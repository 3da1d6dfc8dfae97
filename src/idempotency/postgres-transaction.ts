// inPostgresTransaction: the dedup row and the handler's own writes commit in one PostgreSQL transaction.
import { randomUUID } from 'node:crypto';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from './idempotency-store.js';
import { checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import type { KompliantEvent } from '../wire/event.js';
import { checkPostgresTable, postgresCleanupPacer, postgresStatement, type PostgresPool, type PostgresPoolClient } from './postgres-table.js';

/** Default longest wait of a duplicate delivery for the row lock a running delivery of the same id holds: 5 s. */
const DEFAULT_POSTGRES_LOCK_TIMEOUT_MS = 5_000;

/**
 * Default longest a delivery's transaction may stay open: 25 s, the receiver's default delivery
 * budget (`handlerTimeoutMs`), under the sender's 30 s.
 */
const DEFAULT_POSTGRES_TRANSACTION_TIMEOUT_MS = 25_000;

/** Milliseconds from now until `deadline`, within what `setTimeout` takes (longer delays fire at once). */
function delayUntil(deadline: number): number {
  return Math.min(2_147_483_647, Math.max(0, deadline - Date.now()));
}

/** Options of {@link inPostgresTransaction}. */
export interface InPostgresTransactionOptions<TPool extends PostgresPool = PostgresPool> {
  /** A `pg` Pool; each delivery checks out one client for its transaction. Required. */
  pool: TPool;
  /**
   * The dedup table (see `createIdempotencyTable`).
   *
   * @defaultValue `'kompliant_webhook_idempotency'`
   */
  table?: string;
  /** How long a done id is remembered. Default 7 days (the sender's retry horizon). */
  ttlMs?: number;
  /**
   * Longest a delivery waits for the lock of a concurrent delivery of the same id (PostgreSQL's
   * `lock_timeout`, for this transaction only); past it the delivery fails (500) and Kompliant
   * retries later.
   *
   * @defaultValue 5000
   */
  lockTimeoutMs?: number;
  /** Whether the dedup statements are named, so pg prepares them once per connection (see `postgresIdempotencyStore`). Default true. */
  prepare?: boolean;
  /**
   * Longest a delivery's transaction stays open, from the call (waiting for a pool connection
   * included) to its `COMMIT`. Past it the delivery fails, its transaction is rolled back and
   * its connection closed: a handler that never settles cannot hold a connection of the pool
   * (nor the event's row lock) for good, and its later queries on `client` fail. Give it the
   * receiver's `handlerTimeoutMs` (or less) when you set that.
   *
   * @defaultValue 25000
   */
  timeoutMs?: number;
}

/**
 * The client type a pool's `connect()` resolves (`pg.PoolClient` for a `pg.Pool`). The second
 * signature lets inference read `connect()` of a pool that also has a callback overload (pg's).
 */
export type PostgresClientOf<TPool extends PostgresPool> = TPool extends { connect(): Promise<infer C>; connect(callback: never): void }
  ? C
  : PostgresPoolClient;

/**
 * Wraps `handler` so that each event runs inside one PostgreSQL transaction together with its
 * dedup row: the returned function (for `onEvent` or `receiver.handle`) checks out a client,
 * `BEGIN`s, inserts the event id into the dedup table first, calls `handler(event, client)` and
 * `COMMIT`s. Do every write of the event through `client`, and its effects happen exactly once:
 *
 * - a handler that throws rolls back its writes and the dedup row together; the error reaches the
 *   receiver (500) and Kompliant's retry runs the handler again from a clean slate;
 * - a process that dies anywhere leaves nothing: PostgreSQL rolls the open transaction back;
 * - a concurrent delivery of the same id waits on the row lock (at most `lockTimeoutMs`, then
 *   500 and a later retry), then sees the committed row and returns without calling the
 *   handler (answered 200), or sees the rollback and runs the handler itself;
 * - a connection that PostgreSQL ends mid-transaction (a restart, `pg_terminate_backend`,
 *   `idle_in_transaction_session_timeout`, a network cut) fails the delivery at once (500, a
 *   later retry runs the event again); the client is released as broken and the process lives on;
 * - a transaction still open after `timeoutMs` (a handler that never settles) is rolled back and
 *   its connection closed, so the pool keeps serving other deliveries.
 *
 * Use it with `idempotency: false`: the transaction is the deduplication, and no lease is needed.
 * (It also works next to the default in-memory store, which then only answers in-process
 * duplicates early.) The dedup table is the one `postgresIdempotencyStore` uses; create it with
 * `createIdempotencyTable(pool)`. Expired rows are deleted a few at a time as events arrive.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { inPostgresTransaction } from 'kompliant-webhooks/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * app.post('/webhooks/kompliant', kompliantWebhook({
 *   keyStore,
 *   idempotency: false,
 *   onEvent: inPostgresTransaction({ pool }, async (event, client) => {
 *     await client.query('INSERT INTO workflows (id, status) VALUES ($1, $2)', [event.data.workflow_id, 'done']);
 *   }),
 * }));
 * ```
 */
export function inPostgresTransaction<TEvent extends KompliantEvent<unknown>, TPool extends PostgresPool = PostgresPool>(
  options: InPostgresTransactionOptions<TPool>,
  handler: (event: TEvent, client: PostgresClientOf<TPool>) => unknown,
): (event: TEvent) => Promise<void> {
  const where = 'inPostgresTransaction';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  checkOptionNames(options, ['pool', 'table', 'ttlMs', 'lockTimeoutMs', 'prepare', 'timeoutMs'], where);
  const { pool } = options;
  if (typeof pool !== 'object' || pool === null || typeof (pool as { connect?: unknown }).connect !== 'function') {
    throw new TypeError(`${where}: pool must be a pg Pool (an object with a connect method)`);
  }
  if (typeof handler !== 'function') throw new TypeError(`${where}: handler must be a function`);
  const checked = checkPostgresTable(options.table, where);
  const table = checked.sql;
  if (options.prepare !== undefined && typeof options.prepare !== 'boolean') throw new TypeError(`${where}: prepare must be a boolean`);
  const prepare = options.prepare ?? true;
  const ttlMs = checkPositiveInteger(options.ttlMs, 'ttlMs', DEFAULT_IDEMPOTENCY_TTL_MS);
  const lockTimeoutMs = checkPositiveInteger(options.lockTimeoutMs, 'lockTimeoutMs', DEFAULT_POSTGRES_LOCK_TIMEOUT_MS);
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 'timeoutMs', DEFAULT_POSTGRES_TRANSACTION_TIMEOUT_MS);

  // Takes the id unless a live done row has it: an expired row, or an in-progress claim left by
  // postgresIdempotencyStore on the same table, is taken over.
  const insert = `INSERT INTO ${table} AS t (id, token, done, expires_at) VALUES ($1, $2, true, now() + $3::bigint * interval '1 millisecond')
ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, done = true, expires_at = EXCLUDED.expires_at
WHERE NOT t.done OR t.expires_at <= now()
RETURNING 1`;
  // The same, deleting up to $4 expired rows of other ids on the way (rolled back with the rest
  // if the handler fails); postgresCleanupPacer says which deliveries do.
  const insertCleanup = `WITH cleanup AS (
  DELETE FROM ${table} WHERE id IN (
    SELECT id FROM ${table} WHERE expires_at < now() AND id <> $1 ORDER BY expires_at LIMIT $4 FOR UPDATE SKIP LOCKED)
)
${insert}`;
  const insertStatement = postgresStatement(prepare, 'transaction-insert', checked, insert);
  const insertCleanupStatement = postgresStatement(prepare, 'transaction-insert-cleanup', checked, insertCleanup);
  const cleanup = postgresCleanupPacer();
  // One round trip (simple protocol, no parameters: the value is a checked integer) opens the
  // transaction and sets its lock timeout.
  const begin = `BEGIN; SET LOCAL lock_timeout = ${lockTimeoutMs}`;

  /**
   * One delivery's transaction, settled by whichever comes first: the transaction's own end,
   * the connection's end (an `'error'` event of the checked-out client) or the deadline. In the
   * last two cases the client is released as broken, which closes its connection: PostgreSQL
   * rolls the open transaction back, and whatever the handler still sends on the client fails.
   */
  async function transaction(event: TEvent, deadline: number): Promise<void> {
    const client = await connectBefore(deadline);
    let released = false;
    const release = (destroy: boolean | Error): void => {
      if (released) return;
      released = true;
      // Once released, the pool listens again. A destroyed client keeps this listener too, in
      // case its closing connection reports one more error.
      if (destroy === false) client.removeListener?.('error', onError);
      client.release(destroy);
    };
    let abandon!: (error: Error) => void;
    const abandoned = new Promise<never>((_, reject) => (abandon = reject));
    function onError(error: Error): void {
      const lost = new Error(`${where}: the PostgreSQL connection ended during the transaction, which PostgreSQL rolls back`, { cause: error });
      release(lost);
      abandon(lost);
    }
    client.on?.('error', onError);
    const timer = setTimeout(() => {
      const late = new Error(`${where}: the transaction did not end within timeoutMs (${timeoutMs} ms); it was rolled back and its connection closed`);
      release(late);
      abandon(late);
    }, delayUntil(deadline));
    (timer as { unref?: () => void }).unref?.();
    const work = run(event, client, release);
    // The outcome of work that lost the race is nobody's: its queries fail on the closed client.
    work.catch(() => undefined);
    try {
      await Promise.race([work, abandoned]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(event: TEvent, client: PostgresPoolClient, release: (destroy: boolean | Error) => void): Promise<void> {
    let open = false;
    try {
      open = true; // from the first byte of BEGIN on: a failure here leaves an open transaction or a broken client
      await client.query(begin);
      const batch = cleanup();
      const values = [event.id, randomUUID(), ttlMs];
      const { rowCount } = await (batch === 0 ? client.query(insertStatement(), values) : client.query(insertCleanupStatement(), [...values, batch]));
      if (rowCount !== 1) {
        // Done by a committed delivery: a duplicate, answered 200 without running the handler.
        await client.query('ROLLBACK');
        open = false;
        release(false);
        return;
      }
      await handler(event, client as PostgresClientOf<TPool>);
      await client.query('COMMIT');
      open = false;
      release(false);
    } catch (error) {
      // Roll back what the handler wrote; a client whose connection failed is destroyed, not
      // reused (PostgreSQL rolls an open transaction back when its connection ends).
      let broken = !open;
      if (open) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      release(broken);
      throw error;
    }
  }

  /** A client of the pool, or a rejection once the deadline passes first (the client, when it comes, goes back). */
  function connectBefore(deadline: number): Promise<PostgresPoolClient> {
    const connecting = pool.connect() as Promise<PostgresPoolClient>;
    return new Promise((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new Error(`${where}: no connection of the pool within timeoutMs (${timeoutMs} ms)`));
      }, delayUntil(deadline));
      (timer as { unref?: () => void }).unref?.();
      connecting.then(
        (client) => {
          clearTimeout(timer);
          if (late) client.release();
          else resolve(client);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  return (event: TEvent): Promise<void> => transaction(event, Date.now() + timeoutMs);
}
