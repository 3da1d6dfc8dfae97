/**
 * Bench 1: CPU per webhook. Our receive() (warm) and openEnvelope(), the floor (what a careful
 * hand-written receiver must do at least: base64, AAD, AES-256-GCM, fatal UTF-8, JSON.parse),
 * and the peers' verifiers on the same payload text. Tasks run in rounds, in a rotated order,
 * and every figure is the median over rounds of the per-round median.
 */
import { createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import Stripe from 'stripe';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import type { KompliantEnvelope } from '../src/index.js';
import { library } from './library.js';
import { fixed, ratio, type ResultTable } from './markdown-table.js';
import { BENCH_KEY_ID, PAYLOAD_SIZES, generateSharedSecret, payloadOfSize, sealedEnvelopes, sizeLabel } from './payloads.js';
import { measureInterleaved, type TimedTask } from './timed-tasks.js';

const { createWebhookReceiver, memoryKeyStore, openEnvelope } = library;

/** Bench 1 result for one payload size. */
export interface CpuResult {
  bytes: number;
  /** Median microseconds per webhook, by task name. */
  usPerOp: Record<string, number>;
}

/** Task names, also the row labels of the table and the keys of the JSON output. */
export const FLOOR = 'floor (node:crypto + JSON.parse)';
/** Our receiver, key already resolved once (warm). */
export const RECEIVE = 'receive() (warm)';
/** The synchronous open with a known secret. */
export const OPEN_ENVELOPE = 'openEnvelope()';
/** The peers' verifiers, in table order. */
export const PEERS = ['standardwebhooks verify', 'svix verify', 'stripe constructEvent'] as const;

const POOL = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The floor, written inline on purpose: no validation, no key store, nothing shared with src/. */
function floorOpen(envelope: KompliantEnvelope, key: KeyObject): unknown {
  const bytes = Buffer.from(envelope.data, 'base64');
  const aad = Buffer.from(
    JSON.stringify({
      id: envelope.id,
      event_type: envelope.event_type,
      timestamp: envelope.timestamp,
      account_id: envelope.account_id,
      schema_version: envelope.schema_version,
      key_id: envelope.key_id,
    }),
  );
  const tagStart = bytes.length - 16;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(tagStart));
  const head = decipher.update(bytes.subarray(12, tagStart));
  const tail = decipher.final();
  return JSON.parse(utf8.decode(tail.length === 0 ? head : Buffer.concat([head, tail])));
}

/** Builds every task for one payload size, with valid inputs made by each library's own signer. */
function tasksForSize(bytes: number): TimedTask[] {
  const secret = generateSharedSecret();
  const payload = payloadOfSize(bytes);
  const text = JSON.stringify(payload);
  const envelopes = sealedEnvelopes(secret, payload, POOL);
  const key = createSecretKey(Buffer.from(secret, 'base64'));
  const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [BENCH_KEY_ID]: secret }) });

  const msgId = 'msg_2K9mPxR7N4jL8hS6TdWfY3';
  const now = new Date();
  const seconds = String(Math.floor(now.getTime() / 1000));
  const standard = new StandardWebhook(secret);
  const standardHeaders = { 'webhook-id': msgId, 'webhook-timestamp': seconds, 'webhook-signature': standard.sign(msgId, now, text) };
  const svix = new SvixWebhook(`whsec_${secret}`);
  const svixHeaders = { 'svix-id': msgId, 'svix-timestamp': seconds, 'svix-signature': svix.sign(msgId, now, text) };
  const stripe = new Stripe('sk_test_bench_only');
  const stripeSecret = `whsec_${secret}`;
  const stripeHeader = stripe.webhooks.generateTestHeaderString({ payload: text, secret: stripeSecret });

  let i = 0;
  const next = (): KompliantEnvelope => envelopes[i++ & (POOL - 1)] as KompliantEnvelope;
  return [
    { name: FLOOR, async: false, run: () => floorOpen(next(), key) },
    { name: RECEIVE, async: true, run: () => receiver.receive(next()) },
    { name: OPEN_ENVELOPE, async: false, run: () => openEnvelope(next(), secret) },
    { name: PEERS[0], async: false, run: () => standard.verify(text, standardHeaders) },
    { name: PEERS[1], async: false, run: () => svix.verify(text, svixHeaders) },
    { name: PEERS[2], async: false, run: () => stripe.webhooks.constructEvent(text, stripeHeader, stripeSecret) },
  ];
}

/** Runs bench 1 and returns per-size medians. */
export async function runCpuBench(smoke: boolean): Promise<CpuResult[]> {
  const results: CpuResult[] = [];
  for (const bytes of PAYLOAD_SIZES) {
    const tasks = tasksForSize(bytes);
    for (const task of tasks) {
      // Every task must succeed on its input before it is timed.
      const out = await task.run();
      if (typeof out !== 'object' || out === null) throw new Error(`${task.name} did not return an object`);
    }
    const usPerOp = await measureInterleaved(tasks, smoke);
    results.push({ bytes, usPerOp });
  }
  return results;
}

/** The budgets of docs/performance.md: receive() at most this many times the floor... */
export const RECEIVE_FLOOR_BUDGET = 1.15;
/** ...and standardwebhooks' verify at least this many times slower than receive(). */
export const STANDARDWEBHOOKS_BUDGET = 1.5;

function budgetCell(name: string, us: number, floor: number, ours: number): string {
  if (name === RECEIVE) return `x floor <= ${RECEIVE_FLOOR_BUDGET}: ${us / floor <= RECEIVE_FLOOR_BUDGET ? 'met' : 'NOT met'}`;
  if (name === PEERS[0]) return `>= ${STANDARDWEBHOOKS_BUDGET}x receive(): ${us / ours >= STANDARDWEBHOOKS_BUDGET ? 'met' : 'NOT met'}`;
  return '';
}

/** The markdown table of bench 1: us/op, us/floor, peer/us (how much slower the peer is) and the budgets. */
export function cpuTable(results: readonly CpuResult[]): ResultTable {
  const rows: string[][] = [];
  for (const { bytes, usPerOp } of results) {
    const floor = usPerOp[FLOOR] ?? Number.NaN;
    const ours = usPerOp[RECEIVE] ?? Number.NaN;
    for (const [name, us] of Object.entries(usPerOp)) {
      const isPeer = (PEERS as readonly string[]).includes(name);
      rows.push([sizeLabel(bytes), name, fixed(us, 2), ratio(us / floor), isPeer ? ratio(us / ours) : '', budgetCell(name, us, floor, ours)]);
    }
  }
  return {
    title: 'Bench 1: CPU per webhook (median us/op)',
    columns: ['plaintext', 'task', 'us/op', 'x floor', 'peer / receive()', 'budget'],
    rows,
    notes: [
      'Floor: inline base64 + AAD + AES-256-GCM + fatal UTF-8 + JSON.parse, no validation. receive() and openEnvelope() take the parsed envelope object (as after express.json()); peers verify the same payload text with their own signatures (HMAC-SHA256) and parse it.',
    ],
  };
}
