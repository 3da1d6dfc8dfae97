/**
 * Bench 5: what deduplication costs per delivery in each idempotency store: one claim plus one
 * complete (what a delivery that runs its handler does), on fresh ids, against the real servers
 * the tests use (redis-server on loopback, a throwaway PostgreSQL cluster on a unix socket,
 * dynalite in process through the real AWS SDK over HTTP), beside the in-memory store. Times one
 * delivery at a time (latency) and 16 at once (throughput); for PostgreSQL also the
 * transaction of inPostgresTransaction (BEGIN with lock_timeout, dedup insert, COMMIT) around an
 * empty handler. A store whose server is not installed is reported as skipped.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { IdempotencyStore, KompliantEvent } from '../src/index.js';
import { startDynamoDbServer } from '../test/support/dynamodb-server.js';
import { findPostgresBin, postgresConnection, startPostgresServer } from '../test/support/postgres-server.js';
import { findRedisServer, startRedisServer } from '../test/support/redis-server.js';
import { library, storeEntries } from './library.js';
import { fixed, type ResultTable } from './markdown-table.js';
import { median } from './summary-statistics.js';

/** Bench 5 result for one store. */
export interface StoreBenchRow {
  store: string;
  /** Why it did not run, when it did not. */
  skipped?: string;
  deliveries: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** Deliveries per second with 16 in flight. */
  perSecondAt16: number;
}

type Delivery = (id: string) => Promise<void>;

const LEASE_MS = 60_000;
const TTL_MS = 7 * 24 * 3600 * 1000;

function claimComplete(store: IdempotencyStore): Delivery {
  return async (id) => {
    const token = randomUUID();
    if ((await store.claim(id, token, LEASE_MS)) !== 'claimed') throw new Error('bench: a fresh id was not claimed');
    await store.complete(id, token, TTL_MS);
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function measure(store: string, deliver: Delivery, deliveries: number): Promise<StoreBenchRow> {
  const prefix = `wh_bench_${randomUUID().slice(0, 8)}_`;
  for (let i = 0; i < Math.max(10, deliveries / 10); i++) await deliver(`${prefix}warm${i}`);
  const times: number[] = [];
  for (let i = 0; i < deliveries; i++) {
    const started = process.hrtime.bigint();
    await deliver(`${prefix}seq${i}`);
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  const sorted = times.toSorted((a, b) => a - b);
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < deliveries) await deliver(`${prefix}par${next++}`);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    store,
    deliveries,
    meanUs: times.reduce((a, b) => a + b, 0) / times.length,
    p50Us: median(times),
    p99Us: percentile(sorted, 0.99),
    perSecondAt16: deliveries / seconds,
  };
}

const skipped = (store: string, why: string): StoreBenchRow => ({ store, skipped: why, deliveries: 0, meanUs: Number.NaN, p50Us: Number.NaN, p99Us: Number.NaN, perSecondAt16: Number.NaN });

/** Runs bench 5: 200 deliveries per store in smoke mode, 3000 in full. */
export async function runStoreBench(smoke: boolean, log: (line: string) => void = () => undefined): Promise<StoreBenchRow[]> {
  const deliveries = smoke ? 200 : 3_000;
  const { redis: redisEntry, postgres: postgresEntry, dynamodb: dynamodbEntry } = await storeEntries();
  const rows: StoreBenchRow[] = [];
  rows.push(await measure('memory', claimComplete(library.memoryIdempotencyStore({ max: 100_000 })), deliveries));

  if (findRedisServer() === undefined) rows.push(skipped('redis', 'no redis-server'));
  else {
    log('stores: redis-server');
    const server = await startRedisServer();
    const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
    await client.connect();
    try {
      rows.push(await measure('redis (ioredis, loopback TCP)', claimComplete(redisEntry.redisIdempotencyStore({ client })), deliveries));
    } finally {
      client.disconnect();
      await server.stop();
    }
  }

  if (findPostgresBin() === undefined) rows.push(skipped('postgres', 'no initdb/pg_ctl'));
  else {
    log('stores: PostgreSQL');
    const server = await startPostgresServer();
    const pool = new pg.Pool({ ...postgresConnection(server), max: 16 });
    try {
      await postgresEntry.createIdempotencyTable(pool);
      rows.push(await measure('postgres (pg, unix socket)', claimComplete(postgresEntry.postgresIdempotencyStore({ pool })), deliveries));
      const inTransaction = postgresEntry.inPostgresTransaction({ pool }, () => undefined);
      rows.push(
        await measure('postgres inPostgresTransaction (empty handler)', (id) => inTransaction({ id } as KompliantEvent), deliveries),
      );
    } finally {
      await pool.end();
      await server.remove();
    }
  }

  log('stores: dynalite');
  const dynamo = await startDynamoDbServer();
  try {
    const store = dynamodbEntry.dynamoDbIdempotencyStore({ client: dynamo.client, tableName: dynamo.tableName });
    rows.push(await measure('dynamodb (dynalite in process, HTTP)', claimComplete(store), deliveries));
  } finally {
    dynamo.client.destroy();
    await dynamo.stop();
  }
  return rows;
}

/** Bench 5 as a table: latency per delivery, overhead over memory, throughput at 16 in flight. */
export function storeTable(rows: readonly StoreBenchRow[]): ResultTable {
  const memory = rows.find((r) => r.store === 'memory')?.meanUs ?? Number.NaN;
  return {
    title: 'Idempotency stores: claim + complete per delivery',
    columns: ['store', 'deliveries', 'mean us', 'p50 us', 'p99 us', 'over memory, us', 'deliveries/s at 16 in flight'],
    rows: rows.map((r) =>
      r.skipped !== undefined
        ? [r.store, `skipped (${r.skipped})`, '', '', '', '', '']
        : [r.store, String(r.deliveries), fixed(r.meanUs, 1), fixed(r.p50Us, 1), fixed(r.p99Us, 1), fixed(r.meanUs - memory, 1), fixed(r.perSecondAt16, 0)],
    ),
    notes: [
      'One delivery = claim + complete on a fresh id (two store calls); the servers run on this machine, so a network hop to a managed service adds its round-trip time twice.',
      'inPostgresTransaction replaces both calls with one transaction (BEGIN with lock_timeout, insert, COMMIT: three round trips on one connection).',
      'dynalite is an emulator (LevelDB in memory, in this process): its times say little about DynamoDB, for which AWS quotes single-digit milliseconds per call plus the network hop.',
    ],
  };
}
