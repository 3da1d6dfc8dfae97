// postgresIdempotencyStore against a throwaway PostgreSQL cluster: the table, cleanup on claims, then the store contract.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { POSTGRES_CLEANUP_BATCH } from '../../src/idempotency/postgres-table.js';
import { createIdempotencyTable, idempotencyTableSql, postgresIdempotencyStore } from '../../src/postgres.js';
import { postgresConnection, postgresSkipReason, startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { describeStoreContract } from './contract.js';

describe('the kompliant-webhooks/postgres subpath (built package)', () => {
  it('loads without pg: the pool is passed in, never imported; the main entry does not load it either', () => {
    const code = `
      const before = new Set(Object.keys(require.cache));
      const m = require('kompliant-webhooks/postgres');
      require('kompliant-webhooks');
      const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f.includes('node_modules'));
      console.log(JSON.stringify({ loaded, types: [typeof m.postgresIdempotencyStore, typeof m.inPostgresTransaction, typeof m.createIdempotencyTable] }));`;
    const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ loaded: [], types: ['function', 'function', 'function'] });
  });

  it('checks its options and the table name (identifier rules) at construction', () => {
    const pool = { query: () => Promise.resolve({ rows: [], rowCount: 0 }) };
    expect(() => postgresIdempotencyStore({} as never)).toThrow(/pool/);
    expect(() => postgresIdempotencyStore({ pool, ttl: 1 } as never)).toThrow(/unknown option "ttl"/);
    expect(() => postgresIdempotencyStore({ pool, prepare: 'yes' } as never)).toThrow(/prepare must be a boolean/);
    for (const table of ['', 'Webhooks', 'a-b', '1abc', 'x"; DROP TABLE y; --', 'a.b.c', 'a'.repeat(64), 42]) {
      expect(() => postgresIdempotencyStore({ pool, table } as never)).toThrow(/table must be a lower-case SQL identifier/);
    }
    expect(() => postgresIdempotencyStore({ pool, table: 'billing.webhook_dedup' })).not.toThrow();
    expect(idempotencyTableSql('billing.webhook_dedup')).toContain('CREATE TABLE IF NOT EXISTS "billing"."webhook_dedup"');
  });
});

const skip = postgresSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/idempotency/postgres.test.ts ${skip}\n`);

describe.skipIf(skip !== undefined)('postgresIdempotencyStore against a real PostgreSQL', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  beforeAll(async () => {
    server = await startPostgresServer();
    pool = new pg.Pool({ ...postgresConnection(server), max: 30, connectionTimeoutMillis: 5000 });
    pool.on('error', () => undefined); // idle clients lose their connection in the fault case
    await createIdempotencyTable(pool);
  }, 120_000);
  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    await server?.remove();
  });

  it('createIdempotencyTable is idempotent and takes a schema-qualified table', async () => {
    await createIdempotencyTable(pool);
    await pool.query('CREATE SCHEMA IF NOT EXISTS billing');
    await createIdempotencyTable(pool, { table: 'billing.webhook_dedup' });
    const store = postgresIdempotencyStore({ pool, table: 'billing.webhook_dedup' });
    expect(await store.claim('wh_schema', 't1', 60_000)).toBe('claimed');
    const { rows } = await pool.query('SELECT id, token, done FROM billing.webhook_dedup');
    expect(rows).toEqual([{ id: 'wh_schema', token: 't1', done: false }]);
  });

  it('claims delete expired rows (never a live one): the first, then one per 16 claims or per second, 10 rows per claim since', async () => {
    await pool.query('CREATE TABLE cleanup_test (LIKE kompliant_webhook_idempotency INCLUDING ALL)');
    await pool.query(`INSERT INTO cleanup_test SELECT 'old' || g, 't', g % 2 = 0, now() - interval '1 hour' FROM generate_series(1, 25) g`);
    await pool.query(`INSERT INTO cleanup_test VALUES ('live', 't', true, now() + interval '1 day')`);
    const count = async (): Promise<number> => Number((await pool.query('SELECT count(*) AS n FROM cleanup_test')).rows[0].n);
    vi.useFakeTimers({ toFake: ['Date'] }); // the store's clock, read when the store is built; pg's timers stay real
    try {
      const store = postgresIdempotencyStore({ pool, table: 'cleanup_test' });
      await store.claim('wh_1', 't', 60_000);
      expect(await count()).toBe(26 + 1 - POSTGRES_CLEANUP_BATCH);
      for (let i = 2; i <= 16; i++) await store.claim(`wh_${i}`, 't', 60_000);
      expect(await count()).toBe(17 + 15); // 15 claims without a DELETE
      await store.claim('wh_17', 't', 60_000); // the 16th since: up to 160 rows, 15 expired left
      expect((await pool.query('SELECT id FROM cleanup_test ORDER BY id')).rows.map((r) => r.id)).toEqual(['live', ...Array.from({ length: 17 }, (_, i) => `wh_${i + 1}`).toSorted()]);
      // A second without a cleanup: the next claim cleans, however few claims came since.
      await pool.query(`UPDATE cleanup_test SET expires_at = now() - interval '1 hour' WHERE id IN ('wh_1', 'wh_2')`);
      await store.claim('wh_18', 't', 60_000);
      expect(await count()).toBe(19);
      vi.advanceTimersByTime(1_000);
      await store.claim('wh_19', 't', 60_000);
      expect(await count()).toBe(18);
    } finally {
      vi.useRealTimers();
    }
  });

  it('with prepare: false the statements are sent unnamed (for poolers without prepared statements)', async () => {
    const seen: Array<string | undefined> = [];
    const spy = { query: (q: { name?: string; text: string }, values?: unknown[]) => (seen.push(q.name), pool.query(q, values)) };
    const store = postgresIdempotencyStore({ pool: spy, prepare: false });
    expect(await store.claim('wh_unprepared', 't1', 60_000)).toBe('claimed');
    await store.complete('wh_unprepared', 't1', 60_000);
    expect(await store.claim('wh_unprepared', 't2', 60_000)).toBe('done');
    expect(seen).toEqual([undefined, undefined, undefined]);
    await postgresIdempotencyStore({ pool: spy }).claim('wh_prepared', 't1', 60_000);
    expect(seen[3]).toMatch(/^kw_[0-9a-f]{12}_claim(-cleanup)?$/);
  });

  it('statements reach query() with no own properties and the values as its second argument (pg copies own properties on every call)', async () => {
    const calls: Array<{ own: string[]; name?: string; text: string; values?: unknown[] }> = [];
    const spy = {
      query: (q: { name?: string; text: string }, values?: unknown[]) => (
        calls.push({ own: Object.getOwnPropertyNames(q), name: q.name, text: q.text, values }), pool.query(q, values)
      ),
    };
    const store = postgresIdempotencyStore({ pool: spy });
    expect(await store.claim('wh_shape', 't1', 60_000)).toBe('claimed');
    await store.complete('wh_shape', 't1', 60_000);
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.own).toEqual([]);
      expect(call.name).toMatch(/^kw_[0-9a-f]{12}_(claim|claim-cleanup|complete)$/);
      expect(call.text).toMatch(/INSERT INTO "kompliant_webhook_idempotency"/);
      expect(call.values?.slice(0, 2)).toEqual(['wh_shape', 't1']);
    }
  });

  it('two tables whose long names share their first 38 characters work on one connection, and no statement name is cut', async () => {
    // One connection, so both stores' prepared statements live in the same session. Before the
    // names were hashed, both tables' claim was named past 63 bytes and PostgreSQL cut both to
    // the same name: the second table's claim failed with "prepared statement ... already exists".
    const one = new pg.Pool({ ...postgresConnection(server), max: 1 });
    const notices: string[] = [];
    one.on('connect', (client) => client.on('notice', (notice) => notices.push(String(notice.message))));
    try {
      const tables = ['kompliant_webhook_idempotency_accounts_live', 'kompliant_webhook_idempotency_accounts_sandbox'];
      const stores = tables.map((table) => postgresIdempotencyStore({ pool: one, table }));
      for (const table of tables) await createIdempotencyTable(one, { table });
      notices.length = 0; // CREATE ... IF NOT EXISTS notices, and index names cut on purpose
      for (const [i, store] of stores.entries()) {
        expect(await store.claim('wh_two_tables', `t${i}`, 60_000)).toBe('claimed');
        expect(await store.renew!('wh_two_tables', `t${i}`, 60_000)).toBe(true);
        await store.complete('wh_two_tables', `t${i}`, 60_000);
        expect(await store.claim('wh_two_tables', 'other', 60_000)).toBe('done');
      }
      for (const table of tables) {
        expect((await one.query(`SELECT token, done FROM ${table}`)).rows).toEqual([{ token: `t${tables.indexOf(table)}`, done: true }]);
      }
      await postgresIdempotencyStore({ pool: one }).claim('wh_default_table', 't', 60_000);
      const names = (await one.query('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name as string);
      expect(names.length).toBeGreaterThanOrEqual(7);
      for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
      expect(notices).toEqual([]);
    } finally {
      await one.end();
    }
  });

  it('leases use the database clock and the row says what the store knows', async () => {
    const store = postgresIdempotencyStore({ pool });
    await store.claim('wh_clock', 't1', 60_000);
    const { rows } = await pool.query(`SELECT done, expires_at > now() + interval '59 seconds' AS ok FROM kompliant_webhook_idempotency WHERE id = 'wh_clock'`);
    expect(rows).toEqual([{ done: false, ok: true }]);
  });

  describeStoreContract('postgres', {
    create: () => postgresIdempotencyStore({ pool }),
    stopServer: () => server.stop(),
  });
});
