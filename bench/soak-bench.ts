/**
 * Bench 4: soak. Many webhooks through receive() in this process and over HTTP to an Express +
 * kompliantWebhook server in a child process, with RSS and heap sampled as they go. Reports the
 * growth between the first and the last tenth of the samples (median of each tenth), sampling
 * only after a warm-up (2,000-20,000 webhooks through the same path; over HTTP at least 12,000,
 * so the default deduplication store has reached its bound of 10,000 ids).
 */
import { library } from './library.js';
import { createTestWebhook } from '../src/testing.js';
import { loadRun } from './http-bench.js';
import { percent, fixed, type ResultTable } from './markdown-table.js';
import { BENCH_KEY_ID, generateSharedSecret, payloadOfSize, sealedEnvelopes } from './payloads.js';
import { startServerProcess } from './server-process.js';
import { firstToLastTenthGrowth, median } from './summary-statistics.js';

const { createWebhookReceiver, memoryKeyStore } = library;

/** Bench 4 result for one soak path. */
export interface SoakResult {
  name: string;
  webhooks: number;
  seconds: number;
  samples: number;
  rssFirstTenthMiB: number;
  rssLastTenthMiB: number;
  rssGrowth: number;
  heapGrowth: number;
}

const MIB = 1024 * 1024;

function summarize(name: string, webhooks: number, seconds: number, rss: number[], heap: number[]): SoakResult {
  const tenth = Math.max(1, Math.floor(rss.length / 10));
  return {
    name,
    webhooks,
    seconds,
    samples: rss.length,
    rssFirstTenthMiB: median(rss.slice(0, tenth)) / MIB,
    rssLastTenthMiB: median(rss.slice(-tenth)) / MIB,
    rssGrowth: firstToLastTenthGrowth(rss),
    heapGrowth: firstToLastTenthGrowth(heap),
  };
}

/** receive() soak: a pool of distinct 1 KiB envelopes as JSON text, memory sampled 200 times. */
async function soakReceive(webhooks: number): Promise<SoakResult> {
  const secret = generateSharedSecret();
  const pool = sealedEnvelopes(secret, payloadOfSize(1024), 4096).map((e) => JSON.stringify(e));
  const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [BENCH_KEY_ID]: secret }) });
  // Warm-up (JIT, caches filling) before the first sample: the goal is flat memory after it.
  for (let i = 0; i < Math.min(20_000, webhooks / 10); i++) await receiver.receive(pool[i & 4095]);
  const every = Math.max(1, Math.floor(webhooks / 200));
  const rss: number[] = [];
  const heap: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < webhooks; i++) {
    await receiver.receive(pool[i & 4095]);
    if (i % every === every - 1) {
      const usage = process.memoryUsage();
      rss.push(usage.rss);
      heap.push(usage.heapUsed);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return summarize('receive() in process', webhooks, seconds, rss, heap);
}

/** HTTP soak: Express + kompliantWebhook in a child process, a fresh envelope per request. */
async function soakHttp(webhooks: number, connections: number): Promise<SoakResult> {
  const secret = generateSharedSecret();
  const payload = payloadOfSize(1024);
  const server = await startServerProcess('express-kompliant', secret, BENCH_KEY_ID);
  try {
    const nextBody = () => JSON.stringify(createTestWebhook({ secret, keyId: BENCH_KEY_ID, data: payload }));
    // Warm-up, not sampled: past the default deduplication store's bound (10,000 ids), which
    // grows by design until it is full; the goal is flat memory once every store is full.
    const warmUp = Math.max(Math.ceil(webhooks / 20), webhooks >= 50_000 ? 10_000 + 2_000 : 0);
    await loadRun(server.url, nextBody, { connections, amount: warmUp });
    await server.takeSamples();
    const started = process.hrtime.bigint();
    await loadRun(server.url, nextBody, { connections, amount: webhooks });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const samples = (await server.takeSamples()).filter((s) => s.handled > 0);
    return summarize('Express + kompliantWebhook over HTTP (server process)', webhooks, seconds, samples.map((s) => s.rss), samples.map((s) => s.heapUsed));
  } finally {
    await server.stop();
  }
}

/** Runs bench 4. */
export async function runSoakBench(smoke: boolean): Promise<SoakResult[]> {
  return [await soakReceive(smoke ? 20_000 : 1_000_000), await soakHttp(smoke ? 2_000 : 100_000, smoke ? 10 : 50)];
}

/** The markdown table of bench 4. */
export function soakTable(results: readonly SoakResult[]): ResultTable {
  return {
    title: 'Bench 4: soak (memory growth, first tenth -> last tenth of the samples)',
    columns: ['path', 'webhooks', 'seconds', 'samples', 'RSS first tenth MiB', 'RSS last tenth MiB', 'RSS growth', 'heap growth'],
    rows: results.map((r) => [r.name, String(r.webhooks), fixed(r.seconds, 1), String(r.samples), fixed(r.rssFirstTenthMiB, 1), fixed(r.rssLastTenthMiB, 1), percent(r.rssGrowth), percent(r.heapGrowth)]),
    notes: ['receive(): a pool of 4,096 distinct envelopes (JSON text) reused; HTTP: a freshly sealed envelope (new id) per request, after a warm-up of 12,000 (full run) that fills the default deduplication store to its bound; the server samples its memory every 100 ms.'],
  };
}
