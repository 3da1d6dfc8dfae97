// inPostgresTransaction against a throwaway PostgreSQL: exactly one business row per event after failures, a killed process and concurrent retries.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import express from 'express';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, isWebhookError, kompliantWebhook, memoryKeyStore, type WebhookReceiver } from '../../src/index.js';
import { createIdempotencyTable, inPostgresTransaction } from '../../src/postgres.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';
import { until } from '../support/poll.js';
import { postgresConnection, postgresSkipReason, startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

describe('inPostgresTransaction options', () => {
  const pool = { query: () => Promise.resolve({ rows: [], rowCount: 0 }), connect: () => Promise.reject(new Error('unused')) };
  it('are checked when the handler is built', () => {
    expect(() => inPostgresTransaction({} as never, () => undefined)).toThrow(/pool/);
    expect(() => inPostgresTransaction({ pool }, 'no' as never)).toThrow(/handler/);
    expect(() => inPostgresTransaction({ pool, table: 'Bad Name' }, () => undefined)).toThrow(/table/);
    expect(() => inPostgresTransaction({ pool, lockTimeoutMs: 0 }, () => undefined)).toThrow(/lockTimeoutMs/);
    expect(() => inPostgresTransaction({ pool, timeoutMs: 0 }, () => undefined)).toThrow(/timeoutMs/);
    expect(() => inPostgresTransaction({ pool, retries: 1 } as never, () => undefined)).toThrow(/unknown option "retries"/);
  });
});

const skip = postgresSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/idempotency/postgres-transaction.test.ts ${skip}\n`);

describe.skipIf(skip !== undefined)('inPostgresTransaction against a real PostgreSQL', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let receivers: WebhookReceiver[];
  beforeAll(async () => {
    server = await startPostgresServer();
    pool = new pg.Pool({ ...postgresConnection(server), max: 40, connectionTimeoutMillis: 5000 });
    await createIdempotencyTable(pool);
    // The business table has no unique constraint on event_id: only the transaction keeps it to one row.
    await pool.query('CREATE TABLE business_rows (n serial PRIMARY KEY, event_id text NOT NULL, worker text NOT NULL)');
    receivers = [0, 1].map(() => createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: false }));
  }, 120_000);
  afterAll(async () => {
    await pool?.end();
    await server?.remove();
  });
  beforeEach(async () => {
    await pool.query('TRUNCATE business_rows, kompliant_webhook_idempotency');
  });

  const rowsOf = async (id: string): Promise<string[]> =>
    (await pool.query('SELECT worker FROM business_rows WHERE event_id = $1 ORDER BY n', [id])).rows.map((r) => r.worker as string);
  /** Sessions of this server waiting on a lock held by another. */
  const lockWaiters = async (): Promise<number> =>
    Number((await pool.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rows[0].n);
  const dedupRows = async (id: string): Promise<number> =>
    Number((await pool.query('SELECT count(*) AS n FROM kompliant_webhook_idempotency WHERE id = $1', [id])).rows[0].n);
  const write = (worker: string) =>
    inPostgresTransaction({ pool }, async (event, client) => {
      await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, worker]);
    });

  it('a handler that throws rolls back its writes and the dedup row (500); the retry runs once, later ones are duplicates', async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const failing = inPostgresTransaction({ pool }, async (event, client) => {
      await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'failed']);
      throw new Error('downstream failed');
    });
    const error = await receivers[0]!.handle(sent, failing).catch((e: unknown) => e);
    expect(isWebhookError(error) && error.status).toBe(500);
    expect(await rowsOf(sent.id)).toEqual([]);
    expect(await dedupRows(sent.id)).toBe(0);
    await receivers[1]!.handle({ ...sent, retry_count: 1 }, write('retry'));
    let calls = 0;
    const counting = inPostgresTransaction({ pool }, () => void calls++);
    await receivers[0]!.handle({ ...sent, retry_count: 2 }, counting);
    await receivers[1]!.handle({ ...sent, retry_count: 3 }, counting);
    expect(calls).toBe(0);
    const rows = await rowsOf(sent.id);
    console.info(`inPostgresTransaction after a handler failure: ${rows.length} business row(s) for the event`);
    expect(rows).toEqual(['retry']);
    expect(await dedupRows(sent.id)).toBe(1);
  });

  it('a process killed mid-transaction leaves nothing; the retry that waited on its lock runs once', { timeout: 60_000 }, async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/postgres-transaction-child.ts', import.meta.url))], {
      env: { ...process.env, PG_HOST: server.host, PG_PORT: String(server.port), KEY_ID, SECRET, BODY: JSON.stringify(sent) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('inserted') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    // The child's row is written but not committed: nobody else sees it.
    expect(await rowsOf(sent.id)).toEqual([]);
    // A retry arrives meanwhile and waits on the child's row lock.
    let retried = false;
    const retry = receivers[0]!.handle({ ...sent, retry_count: 1 }, write('retry')).then(() => (retried = true));
    await until(lockWaiters, (n) => n >= 1, 10_000);
    expect(retried).toBe(false);
    child.kill('SIGKILL');
    await exited;
    await retry;
    await receivers[1]!.handle({ ...sent, retry_count: 2 }, write('late'));
    const rows = await rowsOf(sent.id);
    console.info(`inPostgresTransaction after a killed process: ${rows.length} business row(s) for the event (${rows.join(',')})`);
    expect(rows).toEqual(['retry']);
  });

  for (const mode of ['pg_terminate_backend', 'idle-timeout'] as const) {
    it(`a session PostgreSQL ends mid-handler (${mode}): a retryable 500 at once, the process lives on, the retry runs once`, { timeout: 60_000 }, async () => {
      // In a child process, so that a crash shows as its exit code (an 'error' event of a pg
      // client that nobody listens to ends the process).
      const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../support/postgres-session-end-child.ts', import.meta.url))], {
        env: { ...process.env, PG_HOST: server.host, PG_PORT: String(server.port), KEY_ID, SECRET, BODY: JSON.stringify(sent), MODE: mode },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /pid (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`child exited early with ${code}: ${err}`)));
      });
      if (mode === 'pg_terminate_backend') {
        expect((await pool.query('SELECT pg_terminate_backend($1) AS done', [pid])).rows[0].done).toBe(true);
      }
      const code = await exited;
      expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, { status: number; code?: string }>;
      console.info(`inPostgresTransaction, session ended by ${mode} mid-handler: ${JSON.stringify(result)}`);
      expect(result.first).toEqual({ status: 500, code: 'HANDLER_FAILED' });
      expect(result.retry).toEqual({ status: 200 });
      expect(result.again).toEqual({ status: 200 });
      expect(await rowsOf(sent.id)).toEqual(['retry']);
      expect(await dedupRows(sent.id)).toBe(1);
    });
  }

  it('handlers that never settle: each transaction is rolled back and its connection closed after timeoutMs, so a full pool serves again', { timeout: 30_000 }, async () => {
    const small = new pg.Pool({ ...postgresConnection(server), max: 3, connectionTimeoutMillis: 3000 });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hungClients: pg.PoolClient[] = [];
    const later: Array<Promise<unknown>> = [];
    const hung = inPostgresTransaction({ pool: small, timeoutMs: 400 }, async (event, client) => {
      await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'hung']);
      hungClients.push(client);
      await gate;
      // Past its deadline: the handler's queries fail, nothing it writes now can commit.
      later.push(client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'late']).then(() => 'written', (e: Error) => e.message));
    });
    try {
      const hungEvents = [0, 1, 2].map(() => createTestWebhook({ secret: SECRET, keyId: KEY_ID }));
      const quick = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: false, handlerTimeoutMs: 200 });
      const answers = await Promise.all(
        hungEvents.map((sent) => quick.handle(sent, hung).then(() => 200, (error: unknown) => (isWebhookError(error) ? `${error.status} ${error.code}` : String(error)))),
      );
      expect(answers).toEqual(Array(3).fill('503 HANDLER_TIMEOUT'));
      expect(hungClients).toHaveLength(3);
      // All three connections are still checked out by the hung handlers here; an unrelated
      // event waits for one (the pool gives up after 3 s) and gets it once their transactions end.
      const unrelated = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
      const other = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: false });
      const answer = await other.handle(unrelated, inPostgresTransaction({ pool: small }, async (event, client) => {
        await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'unrelated']);
      })).then(() => 200, (error: unknown) => (isWebhookError(error) ? `${error.status} ${error.code}: ${String((error.cause as Error)?.message)}` : String(error)));
      console.info(`inPostgresTransaction, 3 hung handlers on a 3-connection pool: an unrelated event answered ${answer}`);
      expect(answer).toBe(200);
      expect(await rowsOf(unrelated.id)).toEqual(['unrelated']);
      // The hung deliveries' writes and dedup rows were rolled back: their retries run once.
      for (const sent of hungEvents) {
        expect(await rowsOf(sent.id)).toEqual([]);
        expect(await dedupRows(sent.id)).toBe(0);
        await other.handle({ ...sent, retry_count: 1 }, write('retry'));
        expect(await rowsOf(sent.id)).toEqual(['retry']);
      }
      open();
      await vi.waitFor(() => expect(later).toHaveLength(3), { timeout: 5000, interval: 10 });
      const lateResults = await Promise.all(later);
      expect(lateResults.every((r) => r !== 'written')).toBe(true);
      for (const sent of hungEvents) expect(await rowsOf(sent.id)).toEqual(['retry']);
    } finally {
      open();
      await small.end();
    }
  });

  it('statement names: none is cut for the default table, and two tables with a long shared prefix work on one connection', async () => {
    const one = new pg.Pool({ ...postgresConnection(server), max: 1 });
    const notices: string[] = [];
    one.on('connect', (client) => client.on('notice', (notice) => notices.push(String(notice.message))));
    try {
      const tables = ['kompliant_webhook_idempotency_live', 'kompliant_webhook_idempotency_sandbox'];
      for (const table of tables) await createIdempotencyTable(one, { table });
      notices.length = 0; // CREATE ... IF NOT EXISTS notices
      for (const table of [undefined, ...tables]) {
        const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
        await receivers[0]!.handle(sent, inPostgresTransaction({ pool: one, ...(table === undefined ? {} : { table }) }, async (event, client) => {
          await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, table ?? 'default']);
        }));
        expect(await rowsOf(sent.id)).toEqual([table ?? 'default']);
      }
      const names = (await one.query('SELECT name FROM pg_prepared_statements')).rows.map((r) => r.name as string);
      // As sent: PostgreSQL cuts a longer name to 63 bytes (the default table's insert was cut before).
      expect(names).toHaveLength(3);
      for (const name of names) expect(name).toMatch(/^kw_[0-9a-f]{12}_transaction-insert(-cleanup)?$/);
      expect(notices).toEqual([]);
    } finally {
      await one.end();
    }
  });

  it('a delivery is three round trips around the handler (BEGIN with the lock timeout, the insert, COMMIT) and deletes expired rows one delivery in 16', async () => {
    await pool.query(`INSERT INTO kompliant_webhook_idempotency SELECT 'old' || g, 't', true, now() - interval '1 hour' FROM generate_series(1, 25) g`);
    const expired = async (): Promise<number> =>
      Number((await pool.query("SELECT count(*) AS n FROM kompliant_webhook_idempotency WHERE id LIKE 'old%'")).rows[0].n);
    const sent: string[][] = [];
    const counting = {
      connect: async () => {
        const client = await pool.connect();
        const texts: string[] = [];
        sent.push(texts);
        return Object.assign(Object.create(client) as pg.PoolClient, {
          query: (q: string | { text: string }, values?: unknown[]) => (texts.push(typeof q === 'string' ? q : q.text), client.query(q as never, values as never)),
          release: (e?: Error | boolean) => client.release(e),
        });
      },
      query: pool.query.bind(pool),
    };
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const tx = inPostgresTransaction({ pool: counting }, () => undefined);
      await tx(createTestWebhook({ secret: SECRET, keyId: KEY_ID }) as never);
      expect(sent[0]).toHaveLength(3);
      expect(sent[0]![0]).toMatch(/^BEGIN; SET LOCAL lock_timeout = 5000$/);
      expect(sent[0]![2]).toBe('COMMIT');
      expect(await expired()).toBe(15);
      for (let i = 0; i < 15; i++) await tx(createTestWebhook({ secret: SECRET, keyId: KEY_ID }) as never);
      expect(await expired()).toBe(15);
      await tx(createTestWebhook({ secret: SECRET, keyId: KEY_ID }) as never);
      expect(await expired()).toBe(0);
      expect(sent.every((texts) => texts.length === 3)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('concurrent retries of one event, the first failing: one 500, every other answer 200, one business row', async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    let runs = 0;
    const handler = inPostgresTransaction({ pool }, async (event, client) => {
      const run = ++runs;
      await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, `run${run}`]);
      // The first run holds its transaction until every other retry waits on its row lock.
      if (run === 1) await until(lockWaiters, (n) => n >= 19, 10_000);
      if (run === 1) throw new Error('first attempt fails');
    });
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        receivers[i % 2]!.handle({ ...sent, retry_count: i }, handler).then(
          () => 200,
          (error: unknown) => (isWebhookError(error) ? error.status : 0),
        ),
      ),
    );
    const rows = await rowsOf(sent.id);
    console.info(`inPostgresTransaction, 20 concurrent retries (first run fails): handler runs ${runs}, answers ${outcomes.filter((s) => s === 200).length} x 200 + ${outcomes.filter((s) => s !== 200).length} x ${[...new Set(outcomes.filter((s) => s !== 200))].join(',')}; ${rows.length} business row(s)`);
    expect(runs).toBe(2);
    expect(outcomes.filter((s) => s === 500)).toHaveLength(1);
    expect(outcomes.filter((s) => s === 200)).toHaveLength(19);
    expect(rows).toEqual(['run2']);
  });

  it('a duplicate waits at most lockTimeoutMs for a running delivery, then fails (500, retried later) without running', async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered = false;
    const slow = inPostgresTransaction({ pool, lockTimeoutMs: 200 }, async (event, client) => {
      entered = true; // the dedup row is inserted (uncommitted, locked) before the handler runs
      await client.query('INSERT INTO business_rows (event_id, worker) VALUES ($1, $2)', [event.id, 'slow']);
      await gate;
    });
    const first = receivers[0]!.handle(sent, slow);
    await vi.waitFor(() => expect(entered).toBe(true), { timeout: 10_000, interval: 10 });
    let ran = false;
    const error = await receivers[1]!.handle({ ...sent, retry_count: 1 }, inPostgresTransaction({ pool, lockTimeoutMs: 200 }, () => void (ran = true))).catch((e: unknown) => e);
    expect(isWebhookError(error) && error.status).toBe(500);
    expect(((error as Error).cause as { code?: string }).code).toBe('55P03'); // lock_not_available
    expect(ran).toBe(false);
    open();
    await first;
    expect(await rowsOf(sent.id)).toEqual(['slow']);
  });

  it('as onEvent of two Express apps with idempotency: false: 200 for the delivery and for its retries, one business row', async () => {
    const apps = [0, 1].map(() => {
      const app = express();
      app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: false, onEvent: write('express') }));
      return app;
    });
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => request(apps[i % 2]!).post(PATH).send({ ...sent, retry_count: i })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(await rowsOf(sent.id)).toEqual(['express']);
  });
});
