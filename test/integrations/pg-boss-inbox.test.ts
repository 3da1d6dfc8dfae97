// The pg-boss inbox against a real PostgreSQL and a real pg-boss: one job per event, the worker opens
// and handles it, an unopenable job ends in the dead-letter queue, and nothing in the queue is plaintext.
import express from 'express';
import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type KompliantEvent } from '../../src/index.js';
import { createIdempotencyTable, inPostgresTransaction } from '../../src/postgres.js';
import { inboxJobId } from '../../src/inbox/inbox.js';
import { pgBossInbox, startInboxWorker, type InboxWorker } from '../../src/pg-boss.js';
import { createTestWebhook } from '../../src/testing.js';
import { countingKeyStore, KEY_ID, PATH, SECRET } from '../support/app.js';
import { inboxMetaOf as metaOf } from '../support/inbox.js';
import { until } from '../support/poll.js';
import { startPgBoss, stopPgBoss } from '../support/pg-boss.js';
import { postgresSkipReason, type PostgresServer } from '../support/postgres-server.js';

const skip = postgresSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/integrations/pg-boss-inbox.test.ts ${skip}\n`);

describe('inboxJobId', () => {
  it('is a UUID that depends on the account and the event id only', () => {
    const id = inboxJobId('lv_Acme', 'evt_1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(inboxJobId('lv_Acme', 'evt_1')).toBe(id);
    expect(inboxJobId('lv_Other', 'evt_1')).not.toBe(id);
    expect(inboxJobId('lv_Acme', 'evt_2')).not.toBe(id);
  });
});

describe('pg-boss inbox options', () => {
  const boss = { send: () => Promise.resolve(null), work: () => Promise.resolve('w'), createQueue: () => Promise.resolve(), offWork: () => Promise.resolve() };
  it('are checked when the inbox or worker is built', async () => {
    expect(() => pgBossInbox({} as never)).toThrow(/boss must be a started PgBoss/);
    expect(() => pgBossInbox({ boss, queue: 'no spaces' })).toThrow(/queue/);
    expect(() => pgBossInbox({ boss, retryLimit: -1 })).toThrow(/retryLimit/);
    await expect(startInboxWorker({ boss, keyStore: memoryKeyStore({}) } as never)).rejects.toThrow(/onEvent is required/);
    await expect(startInboxWorker({ boss, keyStore: memoryKeyStore({}), onEvent: () => undefined, concurrency: 0 })).rejects.toThrow(/concurrency/);
  });
});

describe.skipIf(skip !== undefined)('pg-boss inbox against a real PostgreSQL', () => {
  let server: PostgresServer;
  let pool: pg.Pool;
  let boss: PgBoss;
  const workers: InboxWorker[] = [];
  beforeAll(async () => {
    ({ server, pool, boss } = await startPgBoss(4));
  });
  afterAll(() => stopPgBoss({ server, pool, boss }, workers));

  const jobsIn = async (queue: string): Promise<{ id: string; state: string; data: Record<string, unknown> }[]> =>
    (await boss.findJobs(queue)) as never;

  it('stores each event once, encrypted, and the worker hands it over once', async () => {
    const queue = 'inbox-once';
    const inbox = pgBossInbox({ boss, queue });
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET, eventType: 'WORKFLOW_COMPLETED' });
    // A retry and a racing delivery of the same event: one job.
    await Promise.all([inbox.enqueue(envelope, metaOf(envelope)), inbox.enqueue(envelope, metaOf(envelope))]);
    await inbox.enqueue({ ...envelope, retry_count: 1 }, metaOf(envelope));
    const stored = await jobsIn(queue);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(inboxJobId(envelope.account_id, envelope.id));
    const row = await pool.query<{ data: unknown }>('SELECT data FROM pgboss.job WHERE name = $1', [queue]);
    expect(JSON.stringify(row.rows)).toContain(envelope.data);
    expect(JSON.stringify(row.rows)).not.toContain('subject_record_id');

    const seen: KompliantEvent[] = [];
    workers.push(await startInboxWorker({ boss, queue, keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: (event) => void seen.push(event), pollingIntervalSeconds: 0.5 }));
    await until(() => seen.length, (n) => n >= 1);
    await until(async () => (await jobsIn(queue))[0]?.state, (state) => state === 'completed');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.id).toBe(envelope.id);
    expect(seen[0]?.data.subject_record_id).toMatch(/^sr_/);
  });

  it('fails a job whose key the store lacks into the dead-letter queue with UNKNOWN_KEY, and a fixed worker takes it back', async () => {
    const queue = 'inbox-unknown-key';
    const inbox = pgBossInbox({ boss, queue, retryLimit: 1, retryDelaySeconds: 1 });
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    await inbox.enqueue(envelope, metaOf(envelope));
    const broken = await startInboxWorker({ boss, queue, keyStore: memoryKeyStore({}), onEvent: () => undefined, retryLimit: 1, retryDelaySeconds: 1, pollingIntervalSeconds: 0.5 });
    workers.push(broken);
    const dead = await until(() => jobsIn(`${queue}.dead`), (jobs) => jobs.length === 1);
    const original = await jobsIn(queue);
    expect(original[0]?.state).toBe('failed');
    expect(JSON.stringify((original[0] as { output?: unknown }).output)).toContain('UNKNOWN_KEY');
    expect((dead[0]!.data as { envelope: { data: string } }).envelope.data).toBe(envelope.data);
    await broken.stop({ timeoutMs: 5000 });

    // Replay: the dead-lettered job back on the queue for a worker that has the key.
    const seen: string[] = [];
    workers.push(await startInboxWorker({ boss, queue, keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: (event) => void seen.push(event.id), pollingIntervalSeconds: 0.5 }));
    await boss.send(queue, dead[0]!.data, {});
    await until(() => seen.length, (n) => n === 1);
    expect(seen).toEqual([envelope.id]);
  });

  it("takes the receiver's cache option: an unknown key is looked up once per negativeTtlMs, or on every job with cache: false", async () => {
    const lookupsFor = async (queue: string, cache: { negativeTtlMs: number } | false): Promise<number> => {
      const inbox = pgBossInbox({ boss, queue, retryLimit: 0 });
      const envelopes = Array.from({ length: 3 }, () => createTestWebhook({ keyId: KEY_ID, secret: SECRET }));
      for (const envelope of envelopes) await inbox.enqueue(envelope, metaOf(envelope));
      // The store lacks the key: every job fails with UNKNOWN_KEY (no retry), one after another.
      const keyStore = countingKeyStore({});
      const worker = await startInboxWorker({ boss, queue, keyStore, cache, retryLimit: 0, concurrency: 1, logger: false, onEvent: () => undefined, pollingIntervalSeconds: 0.5 });
      workers.push(worker);
      await until(async () => (await jobsIn(queue)).filter((job) => job.state === 'failed').length, (n) => n === envelopes.length);
      await worker.stop({ timeoutMs: 5000 });
      return keyStore.calls.length;
    };
    expect(await lookupsFor('inbox-cache-negative', { negativeTtlMs: 60_000 })).toBe(1);
    expect(await lookupsFor('inbox-cache-off', false)).toBe(3);
  });

  it('retries a handler that throws, then completes', async () => {
    const queue = 'inbox-retry';
    const inbox = pgBossInbox({ boss, queue, retryLimit: 3, retryDelaySeconds: 1 });
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    await inbox.enqueue(envelope, metaOf(envelope));
    let calls = 0;
    workers.push(
      await startInboxWorker({
        boss,
        queue,
        keyStore: memoryKeyStore({ [KEY_ID]: SECRET }),
        pollingIntervalSeconds: 0.5,
        onEvent: () => {
          calls += 1;
          if (calls === 1) throw new Error('downstream down');
        },
      }),
    );
    await until(async () => (await jobsIn(queue))[0]?.state, (state) => state === 'completed');
    expect(calls).toBe(2);
  });

  it('a receiver answers 200 for every delivery while no worker runs; two workers then drain each event exactly once', async () => {
    const queue = 'inbox-end-to-end';
    await createIdempotencyTable(pool);
    await pool.query('CREATE TABLE inbox_effects (n serial PRIMARY KEY, event_id text NOT NULL)');
    const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
    // Two receiver instances on one queue, as behind a load balancer.
    const apps = [0, 1].map(() => express().post(PATH, kompliantWebhook({ keyStore, inbox: pgBossInbox({ boss, queue }), logger: false })));
    const envelopes = Array.from({ length: 40 }, () => createTestWebhook({ keyId: KEY_ID, secret: SECRET }));
    // Every event twice (a retry racing the first delivery), on different instances.
    const statuses = await Promise.all(
      envelopes.flatMap((envelope, i) => [0, 1].map(async (copy) => (await request(apps[(i + copy) % 2]!).post(PATH).send(envelope)).status)),
    );
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(await jobsIn(queue)).toHaveLength(envelopes.length);

    const effect = inPostgresTransaction({ pool }, async (event: KompliantEvent, client) => {
      await client.query('INSERT INTO inbox_effects (event_id) VALUES ($1)', [event.id]);
    });
    for (let i = 0; i < 2; i++) {
      workers.push(await startInboxWorker({ boss, queue, keyStore, onEvent: effect, concurrency: 4, pollingIntervalSeconds: 0.5 }));
    }
    const done = await until(
      async () => (await jobsIn(queue)).filter((job) => job.state === 'completed').length,
      (n) => n === envelopes.length,
    );
    expect(done).toBe(envelopes.length);
    const rows = await pool.query<{ event_id: string; n: string }>('SELECT event_id, count(*) AS n FROM inbox_effects GROUP BY event_id');
    expect(rows.rows).toHaveLength(envelopes.length);
    expect(rows.rows.filter((row) => row.n !== '1')).toEqual([]);
  });
});
