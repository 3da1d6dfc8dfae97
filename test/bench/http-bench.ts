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
import type { ServerKind } from './http-server.js';
import { median } from './summary-statistics.js';

/** A comparison: `ours` against the `reference` a user would write without the library. */
interface HttpPair {
  label: string;
  ours: ServerKind;
  reference: ServerKind;
}

/**
 * The compared pairs. The Fetch adapter runs behind the minimal node:http -> Request/Response
 * bridge of fetch-bridge.ts, so its row includes the bridge's cost (as any Node host's would);
 * the last pair puts a bare Fetch handler behind the same bridge, to show the adapter's own share.
 */
export const HTTP_PAIRS: readonly HttpPair[] = [
  { label: 'Express + kompliantWebhook vs Express + express.json()', ours: 'express-kompliant', reference: 'express-json' },
  { label: 'kompliantWebhook as node:http handler vs bare node:http + JSON.parse', ours: 'node-kompliant', reference: 'node-bare' },
  { label: 'createFetchHandler via node:http bridge vs bare node:http + JSON.parse', ours: 'fetch-kompliant', reference: 'node-bare' },
  { label: 'createFetchHandler vs a Fetch handler doing request.json(), both via the bridge', ours: 'fetch-kompliant', reference: 'fetch-bare' },
];

/** One autocannon run's throughput and latency. */
export interface LoadRun {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Bench 2 result for one pair: every round of both sides and the median ratio. */
export interface HttpPairResult {
  label: string;
  ours: ServerKind;
  reference: ServerKind;
  oursRuns: LoadRun[];
  referenceRuns: LoadRun[];
  /** Median over rounds of ours/reference req/s in the same round. */
  reqPerSecRatio: number;
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
  return { reqPerSec: result['2xx'] / seconds, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/** Runs bench 2. */
export async function runHttpBench(smoke: boolean): Promise<HttpPairResult[]> {
  const rounds = smoke ? 1 : 5;
  const connections = smoke ? 10 : 50;
  const load = smoke ? { connections, amount: 100 } : { connections, durationS: 4 };
  const secret = generateSharedSecret();
  const nextBody = envelopeBodies(secret, smoke ? 200 : 40_000);
  const results: HttpPairResult[] = [];
  for (const pair of HTTP_PAIRS) {
    const servers: ServerProcess[] = [];
    try {
      const ours = await startServerProcess(pair.ours, secret, BENCH_KEY_ID);
      servers.push(ours);
      const reference = await startServerProcess(pair.reference, secret, BENCH_KEY_ID);
      servers.push(reference);
      // Warm both (JIT, connection setup) before anything counts.
      await loadRun(ours.url, nextBody, smoke ? { connections, amount: 50 } : { connections, durationS: 1 });
      await loadRun(reference.url, nextBody, smoke ? { connections, amount: 50 } : { connections, durationS: 1 });
      const oursRuns: LoadRun[] = [];
      const referenceRuns: LoadRun[] = [];
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        let a: LoadRun;
        let b: LoadRun;
        if (round % 2 === 0) {
          a = await loadRun(ours.url, nextBody, load);
          b = await loadRun(reference.url, nextBody, load);
        } else {
          b = await loadRun(reference.url, nextBody, load);
          a = await loadRun(ours.url, nextBody, load);
        }
        oursRuns.push(a);
        referenceRuns.push(b);
        ratios.push(a.reqPerSec / b.reqPerSec);
      }
      results.push({ ...pair, oursRuns, referenceRuns, reqPerSecRatio: median(ratios) });
    } finally {
      for (const server of servers) await server.stop();
    }
  }
  return results;
}

function medianOf(runs: readonly LoadRun[], field: keyof LoadRun): number {
  return median(runs.map((r) => r[field]));
}

/** The markdown table of bench 2. */
export function httpTable(results: readonly HttpPairResult[]): ResultTable {
  const rows: string[][] = [];
  for (const r of results) {
    for (const [kind, runs] of [
      [r.ours, r.oursRuns],
      [r.reference, r.referenceRuns],
    ] as const) {
      rows.push([
        r.label,
        kind,
        fixed(medianOf(runs, 'reqPerSec'), 0),
        fixed(medianOf(runs, 'p50Ms'), 1),
        fixed(medianOf(runs, 'p99Ms'), 1),
        kind === r.ours ? ratio(r.reqPerSecRatio) : '',
      ]);
    }
  }
  return {
    title: 'Bench 2: HTTP on loopback (medians over A/B interleaved rounds)',
    columns: ['comparison', 'server', 'req/s', 'p50 ms', 'p99 ms', 'ours / reference req/s'],
    rows,
    notes: [
      'Servers run in child processes; autocannon (programmatic) in the parent. 1 KiB payloads, distinct envelopes per request. The Fetch adapter is served through a minimal node:http -> Request/Response bridge (test/bench/fetch-bridge.ts), whose cost its row includes; the last pair compares it with a Fetch handler that only runs request.json() behind the same bridge.',
    ],
  };
}
