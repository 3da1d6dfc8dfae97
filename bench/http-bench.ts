/**
 * Bench 2: HTTP throughput and latency on loopback, autocannon's programmatic API against
 * servers in child processes. Each pair runs A/B interleaved for several rounds (the order
 * flips every round) and reports medians. Every request carries a distinct sealed envelope
 * (from a pre-built pool) so a later deduplication store sees realistic ids.
 */
import autocannon from 'autocannon';
import { fixed, ratio, type ResultTable } from './markdown-table.js';
import { BENCH_KEY_ID, generateSharedSecret, payloadOfSize, sealedEnvelopes } from './payloads.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startRedisServer } from '../test/support/redis-server.js';
import { findPostgresBin, postgresConnection, startPostgresServer } from '../test/support/postgres-server.js';
import type { ServerKind, StoreEndpoints } from './http-server.js';
import { storeEntries } from './library.js';
import { median } from './summary-statistics.js';
import { allCores, pinToCores } from './machine.js';

/** A comparison: `ours` against the `reference` a user would write without the library. */
interface HttpPair {
  label: string;
  ours: ServerKind;
  reference: ServerKind;
  /** The budget on ours/reference req/s (docs/performance.md), if any. */
  budget?: number;
  /** Whether ours' p99 must stay within the reference's + 1 ms. */
  p99Budget?: boolean;
  /** Report the per-delivery cost ratio (reference req/s / ours req/s) instead of a budget. */
  costRatio?: boolean;
  /** What the row shows when it has no budget (a breakdown of another row's ratio). */
  note?: string;
}

/**
 * The compared pairs, each against the reference a user would write without the library. The
 * Fetch handlers run behind the minimal node:http -> Request/Response bridge of fetch-bridge.ts,
 * ours and the naive one alike, so the ratio is the adapter's own cost. The second pair splits
 * the first: the same handler with `idempotency: false`, so the two ratios show what the default
 * in-process deduplication costs (the naive route deduplicates nothing). The last pairs are the
 * shared dedup stores against the default memory store (a local redis-server, a throwaway
 * PostgreSQL cluster, dynalite): each one's per-delivery cost ratio.
 */
export const HTTP_PAIRS: readonly HttpPair[] = [
  { label: 'kompliantWebhook as node:http handler vs a naive node:http decrypt route', ours: 'node-kompliant', reference: 'node-naive', budget: 0.8, p99Budget: true },
  {
    label: 'kompliantWebhook with idempotency: false vs the same naive route',
    ours: 'node-kompliant-no-dedup',
    reference: 'node-naive',
    note: 'no budget: the row above without deduplication',
  },
  { label: 'createFetchHandler vs a naive Fetch decrypt route, both via the bridge', ours: 'fetch-kompliant', reference: 'fetch-naive' },
  { label: 'Express + kompliantWebhook vs Express + express.json() only', ours: 'express-kompliant', reference: 'express-json', budget: 0.95 },
  { label: 'node:http handler, Redis dedup store vs memory store', ours: 'node-kompliant-redis', reference: 'node-kompliant', costRatio: true },
  { label: 'node:http handler, PostgreSQL dedup store vs memory store', ours: 'node-kompliant-postgres', reference: 'node-kompliant', costRatio: true },
  {
    label: 'node:http handler, DynamoDB dedup store (dynalite) vs memory store',
    ours: 'node-kompliant-dynamodb',
    reference: 'node-kompliant',
    costRatio: true,
  },
];

/** One autocannon run's throughput and latency. */
export interface LoadRun {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** The slowest request. */
  maxMs?: number;
  /**
   * Server process CPU time (user + system) per request during the run, in microseconds: what
   * the request cost the server, however the machine's cores were shared with the load generator.
   */
  serverCpuUs?: number;
  /**
   * The share of one core the server process used during the run (CPU per request x req/s).
   * Well under 1 means the server waited for requests: the load generator set the pace.
   */
  serverBusy?: number;
}

/** Bench 2 result for one pair: every round of both sides and the median ratio. */
export interface HttpPairResult extends HttpPair {
  /** Whether the servers ran on core 1 and the load generator on core 0 (Linux with taskset). */
  pinned: boolean;
  oursRuns: LoadRun[];
  referenceRuns: LoadRun[];
  /** Median over rounds of ours/reference req/s in the same round. */
  reqPerSecRatio: number;
  /**
   * Median over rounds of ours/reference server CPU time per request in the same round: the
   * servers alone, whichever process set the pace.
   */
  cpuRatio: number;
  /** Why the pair did not run (a store server missing on this machine). */
  skipped?: string;
}

/** The shared dedup stores the pairs need, started before any server is pinned, and how to stop them. */
interface RunningStores {
  endpoints: StoreEndpoints;
  /** Why a store could not start here, by server kind. */
  missing: Map<ServerKind, string>;
  stop(): Promise<void>;
}

/** dynalite in its own process (dynalite-process.ts), so it takes no core from the load generator. */
async function startDynaliteProcess(): Promise<{ endpoint: string; tableName: string; stop(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./dynalite-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const started = await new Promise<{ endpoint: string; tableName: string }>((resolve, reject) => {
    child.once('message', (message: { endpoint: string; tableName: string }) => resolve(message));
    child.once('exit', (code) => reject(new Error(`dynalite process exited early (code ${code})`)));
  });
  return {
    ...started,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

/** Starts every shared store a pair in `pairs` uses: redis-server, a PostgreSQL cluster (when installed), dynalite. */
async function startStores(pairs: readonly HttpPair[]): Promise<RunningStores> {
  const kinds = new Set(pairs.flatMap((pair) => [pair.ours, pair.reference]));
  const endpoints: StoreEndpoints = {};
  const missing = new Map<ServerKind, string>();
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    // Last started, first stopped.
    for (let i = stops.length - 1; i >= 0; i--) await stops[i]?.();
  };
  try {
    if (kinds.has('node-kompliant-redis')) {
      const redis = await startRedisServer();
      stops.push(() => redis.stop());
      endpoints.redisPort = redis.port;
    }
    if (kinds.has('node-kompliant-postgres')) {
      if (findPostgresBin() === undefined) missing.set('node-kompliant-postgres', 'no initdb/pg_ctl on this machine');
      else {
        const server = await startPostgresServer();
        stops.push(() => server.remove());
        const pool = new pg.Pool({ ...postgresConnection(server), max: 1 });
        try {
          await (await storeEntries()).postgres.createIdempotencyTable(pool);
        } finally {
          await pool.end();
        }
        endpoints.postgres = { host: server.host, port: server.port };
      }
    }
    if (kinds.has('node-kompliant-dynamodb')) {
      const dynalite = await startDynaliteProcess();
      stops.push(() => dynalite.stop());
      endpoints.dynamodb = { endpoint: dynalite.endpoint, tableName: dynalite.tableName };
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints, missing, stop };
}

/** A cycling source of request bodies: distinct 1 KiB-payload envelopes as JSON text. */
export function envelopeBodies(secret: string, count: number): () => string {
  const texts = sealedEnvelopes(secret, payloadOfSize(1024), count).map((e) => JSON.stringify(e));
  let i = 0;
  return () => texts[i++ % texts.length] as string;
}

/** One autocannon run; throws if any request failed (a bench of errors measures nothing). */
export async function loadRun(
  url: string,
  nextBody: () => string,
  load: { connections: number; durationS?: number; amount?: number },
): Promise<LoadRun> {
  const result = await autocannon({
    url,
    method: 'POST',
    connections: load.connections,
    ...(load.amount === undefined ? { duration: load.durationS ?? 1 } : { amount: load.amount }),
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          request.body = nextBody();
          return request;
        },
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0 || result['2xx'] === 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result['2xx']} 2xx`);
  }
  const seconds = (result.finish.getTime() - result.start.getTime()) / 1000;
  return { reqPerSec: result['2xx'] / seconds, p50Ms: result.latency.p50, p99Ms: result.latency.p99, maxMs: result.latency.max };
}

/** {@link loadRun} against a bench server process, with the server's CPU time per request. */
export async function measuredRun(server: ServerProcess, nextBody: () => string, load: { connections: number; durationS?: number; amount?: number }): Promise<LoadRun> {
  const before = await server.usage();
  const run = await loadRun(server.url, nextBody, load);
  const after = await server.usage();
  const requests = after.requests - before.requests;
  if (requests === 0) return run;
  const serverCpuUs = (after.cpuMicros - before.cpuMicros) / requests;
  return { ...run, serverCpuUs, serverBusy: (serverCpuUs * run.reqPerSec) / 1e6 };
}

/** Runs bench 2. */
export async function runHttpBench(smoke: boolean): Promise<HttpPairResult[]> {
  // Many short rounds rather than a few long ones: this VM's speed drifts from minute to minute,
  // and the two runs of a round are the closer in time the shorter they are (14 x 2 s per side,
  // the same 28 s as the 7 x 4 s of earlier runs).
  const rounds = smoke ? 1 : 14;
  const connections = smoke ? 10 : 50;
  const load = smoke ? { connections, amount: 100 } : { connections, durationS: 2 };
  const secret = generateSharedSecret();
  const nextBody = envelopeBodies(secret, smoke ? 200 : 40_000);
  const results: HttpPairResult[] = [];
  // The store servers first, so that they keep every core: they stand for servers on other machines.
  const stores = await startStores(HTTP_PAIRS);
  // The load generator (this process) on core 0, each server on core 1, as issue 17 measured;
  // every core again at the end, for the benches after this one.
  const pinnedHere = pinToCores(process.pid, '0');
  try {
    for (const pair of HTTP_PAIRS) {
      const missing = stores.missing.get(pair.ours) ?? stores.missing.get(pair.reference);
      if (missing !== undefined) {
        results.push({ ...pair, pinned: pinnedHere, oursRuns: [], referenceRuns: [], reqPerSecRatio: Number.NaN, cpuRatio: Number.NaN, skipped: missing });
        continue;
      }
      const servers: ServerProcess[] = [];
      try {
        const ours = await startServerProcess(pair.ours, secret, BENCH_KEY_ID, stores.endpoints);
        servers.push(ours);
        const reference = await startServerProcess(pair.reference, secret, BENCH_KEY_ID, stores.endpoints);
        servers.push(reference);
        const pinned = pinnedHere && pinToCores(ours.pid, '1') && pinToCores(reference.pid, '1');
        // Warm both (JIT, connection setup) before anything counts.
        await loadRun(ours.url, nextBody, smoke ? { connections, amount: 50 } : { connections, durationS: 1 });
        await loadRun(reference.url, nextBody, smoke ? { connections, amount: 50 } : { connections, durationS: 1 });
        const oursRuns: LoadRun[] = [];
        const referenceRuns: LoadRun[] = [];
        const ratios: number[] = [];
        const cpuRatios: number[] = [];
        for (let round = 0; round < rounds; round++) {
          let a: LoadRun;
          let b: LoadRun;
          if (round % 2 === 0) {
            a = await measuredRun(ours, nextBody, load);
            b = await measuredRun(reference, nextBody, load);
          } else {
            b = await measuredRun(reference, nextBody, load);
            a = await measuredRun(ours, nextBody, load);
          }
          oursRuns.push(a);
          referenceRuns.push(b);
          ratios.push(a.reqPerSec / b.reqPerSec);
          cpuRatios.push((a.serverCpuUs ?? Number.NaN) / (b.serverCpuUs ?? Number.NaN));
        }
        results.push({ ...pair, pinned, oursRuns, referenceRuns, reqPerSecRatio: median(ratios), cpuRatio: median(cpuRatios) });
      } finally {
        for (const server of servers) await server.stop();
      }
    }
  } finally {
    if (pinnedHere) pinToCores(process.pid, allCores());
    await stores.stop();
  }
  return results;
}

/** A share of one core as a whole percentage, `n/a` when unknown. */
export function percentOfCore(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : 'n/a';
}

export function medianOf(runs: readonly LoadRun[], field: keyof LoadRun): number {
  return median(runs.map((r) => r[field] ?? Number.NaN));
}

/** The markdown table of bench 2: every server's numbers, then each budget met or not. */
export function httpTable(results: readonly HttpPairResult[]): ResultTable {
  const rows: string[][] = [];
  for (const r of results) {
    if (r.skipped !== undefined) {
      rows.push([r.label, r.ours, '', '', '', '', '', '', '', `not run: ${r.skipped}`]);
      continue;
    }
    const oursP99 = medianOf(r.oursRuns, 'p99Ms');
    const referenceP99 = medianOf(r.referenceRuns, 'p99Ms');
    const budgets: string[] = [];
    if (r.budget !== undefined) budgets.push(`req/s >= ${r.budget.toFixed(2)}x: ${r.reqPerSecRatio >= r.budget ? 'met' : 'NOT met'}`);
    if (r.p99Budget === true) budgets.push(`p99 <= reference + 1 ms: ${oursP99 <= referenceP99 + 1 ? 'met' : 'NOT met'}`);
    if (r.costRatio === true) budgets.push(`cost per delivery ${ratio(1 / r.reqPerSecRatio)} the reference's`);
    if (r.note !== undefined) budgets.push(r.note);
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
        fixed(isOurs ? oursP99 : referenceP99, 1),
        fixed(medianOf(runs, 'serverCpuUs'), 0),
        percentOfCore(medianOf(runs, 'serverBusy')),
        isOurs ? ratio(r.reqPerSecRatio) : '',
        isOurs ? ratio(r.cpuRatio) : '',
        isOurs ? budgets.join('; ') : '',
      ]);
    }
  }
  return {
    title: 'Bench 2: HTTP on loopback (medians over A/B interleaved rounds)',
    columns: [
      'comparison',
      'server',
      'req/s',
      'p50 ms',
      'p99 ms',
      'server CPU us/req',
      'server core busy',
      'ours / reference req/s',
      'ours / reference CPU per request',
      'budget',
    ],
    rows,
    notes: [
      results.every((r) => r.pinned)
        ? 'Pinned with taskset: every server on core 1, autocannon on core 0 (the store servers unpinned).'
        : 'Not pinned (needs Linux, taskset and two cores): servers and autocannon share the cores.',
      'Servers run in child processes; autocannon (programmatic) in the parent, 50 connections. 1 KiB payloads, distinct envelopes per request. The naive references (bench/http-server.ts) are written inline and share nothing with src/: read the body, JSON.parse, build the spec AAD, AES-256-GCM decrypt, JSON.parse the plaintext; no validation, no limits, no deadlines. The Fetch handlers are served through the minimal node:http -> Request/Response bridge (bench/fetch-bridge.ts), ours and the naive one alike. The dedup store rows use a local redis-server (loopback TCP), a throwaway PostgreSQL cluster (unix socket, pg pool of 16) and dynalite (an in-memory DynamoDB emulator in its own process, reached by the AWS SDK over HTTP: its numbers say little about DynamoDB itself); each cost ratio is req/s with the memory store / req/s with the shared one. Server CPU us/req is the server process user + system CPU time over the run divided by the requests it served (the load generator shares the machine, so req/s depends on both processes; CPU per request is the server alone). Server core busy is CPU per request x req/s, the share of its one core the server used: well under 100% for both servers of a pair means the load generator set the pace, and the req/s ratio then understates the difference in server cost, which the CPU ratio (the median of the per-round ratios) shows. 14 rounds of 2 s per server, the order flipped each round.',
    ],
  };
}
