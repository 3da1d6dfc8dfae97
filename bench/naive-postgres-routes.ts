/**
 * The naive PostgreSQL routes of the SQL bench (sql-bench.ts): what a hand-written node:http
 * receiver does to write one effect row per event exactly once, written inline and sharing
 * nothing with src/ (their own tables, their own SQL, unnamed statements as `pool.query(text,
 * values)` sends them). No deadlines, no leases renewed, no cleanup of old rows, no lock timeout.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type pg from 'pg';
import { naiveOpen } from './naive-open.js';

/** The bench's own tables: the effect tables of ours and of the naive routes, and the naive routes' dedup tables. */
export const SQL_BENCH_TABLES = `
CREATE TABLE bench_ours_effects (n bigserial PRIMARY KEY, event_id text NOT NULL, event_type text NOT NULL);
CREATE TABLE bench_naive_effects (n bigserial PRIMARY KEY, event_id text NOT NULL, event_type text NOT NULL);
CREATE TABLE bench_naive_seen (id text PRIMARY KEY);
CREATE TABLE bench_naive_claims (id text PRIMARY KEY, done boolean NOT NULL DEFAULT false, expires_at timestamptz NOT NULL);
`;

/** The effect row ours write (the handler's own statement, unnamed like the naive routes'). */
export const OURS_EFFECT_SQL = 'INSERT INTO bench_ours_effects (event_id, event_type) VALUES ($1, $2)';
const NAIVE_EFFECT_SQL = 'INSERT INTO bench_naive_effects (event_id, event_type) VALUES ($1, $2)';

const RECEIVED = JSON.stringify({ received: true });

function answer(res: ServerResponse, status: number): void {
  if (status !== 200) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(RECEIVED) });
  res.end(RECEIVED);
}

/** Reads the body, decrypts it (400 on any failure), then answers what `work(id, eventType)` resolves (500 when it throws). */
function naiveRoute(key: Buffer, work: (id: string, eventType: string) => Promise<void>): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let opened: { id: string; eventType: string };
      try {
        opened = naiveOpen(key, Buffer.concat(chunks).toString('utf8'));
      } catch {
        answer(res, 400);
        return;
      }
      work(opened.id, opened.eventType).then(
        () => answer(res, 200),
        () => answer(res, 500),
      );
    });
  };
}

/** `BEGIN; INSERT ... ON CONFLICT DO NOTHING RETURNING; INSERT effect; COMMIT` on one client of the pool. */
export function naivePostgresTransactionHandler(key: Buffer, pool: pg.Pool, onHandled: () => void): RequestListener {
  return naiveRoute(key, async (id, eventType) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const seen = await client.query('INSERT INTO bench_naive_seen (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id', [id]);
      if (seen.rowCount === 1) await client.query(NAIVE_EFFECT_SQL, [id, eventType]);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
      throw error;
    }
    onHandled();
  });
}

/** Claim (a 60 s lease), effect, complete: three statements on the pool, the claim deleted again when the effect fails. */
export function naivePostgresStoreHandler(key: Buffer, pool: pg.Pool, onHandled: () => void): RequestListener {
  return naiveRoute(key, async (id, eventType) => {
    const claimed = await pool.query(
      `INSERT INTO bench_naive_claims AS c (id, expires_at) VALUES ($1, now() + interval '60 seconds')
ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE c.expires_at <= now() AND NOT c.done RETURNING id`,
      [id],
    );
    if (claimed.rowCount !== 1) return; // a duplicate: answered 200 without the effect
    try {
      await pool.query(NAIVE_EFFECT_SQL, [id, eventType]);
    } catch (error) {
      await pool.query('DELETE FROM bench_naive_claims WHERE id = $1', [id]).catch(() => undefined);
      throw error;
    }
    await pool.query("UPDATE bench_naive_claims SET done = true, expires_at = now() + interval '7 days' WHERE id = $1", [id]);
    onHandled();
  });
}
