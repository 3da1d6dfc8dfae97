/**
 * Bench 3: the key path through createWebhookReceiver's DEFAULT configuration. Counts key-store
 * calls per 10,000 requests with 1, 2 and 100 key ids (sequential and all-at-once). The counting
 * store is not in process, so the default cache budgets its lookups of ids it does not hold (20 a
 * second for the one account these envelopes come from); requests past that budget
 * get 503 KEY_STORE_UNAVAILABLE and are re-delivered, as the sender would, one simulated second
 * later (the cache's clock is the only option set, so no real time passes). Also times the
 * warm key path (receive() minus openEnvelope() on the same envelopes), and times rejections
 * (tampered ciphertext, tampered metadata, unknown key id) against a success.
 */
import type { KeyStore, KompliantEnvelope } from '../src/index.js';
import { library } from './library.js';
import { fixed, ratio, type ResultTable } from './markdown-table.js';
import { BENCH_KEY_ID, generateSharedSecret, payloadOfSize, sealedEnvelopes } from './payloads.js';
import { measureInterleaved, type TimedTask } from './timed-tasks.js';

const { createWebhookReceiver, isWebhookError, memoryKeyStore, openEnvelope } = library;

/** Key-store calls seen for one scenario of bench 3. */
export interface StoreCallCount {
  keyIds: number;
  requests: number;
  mode: 'sequential' | 'concurrent';
  storeCalls: number;
  maxCallsForOneKeyId: number;
  /** Requests answered 503 by the lookup budget and re-delivered a simulated second later. */
  deferredByBudget: number;
  /** Simulated seconds until every request was accepted. */
  simulatedSeconds: number;
}

/** Bench 3 result: store-call counts and timed key-path tasks. */
export interface KeyPathResult {
  storeCalls: StoreCallCount[];
  /** us/op by task name. */
  usPerOp: Record<string, number>;
}

/** A key store that counts every getSecret call per key id, around the real memory store. */
function countingKeyStore(secrets: Record<string, string>): { keyStore: KeyStore; calls: Map<string, number> } {
  const inner = memoryKeyStore(secrets);
  const calls = new Map<string, number>();
  return {
    calls,
    keyStore: {
      getSecret(keyId) {
        calls.set(keyId, (calls.get(keyId) ?? 0) + 1);
        return inner.getSecret(keyId);
      },
    },
  };
}

/** `count` distinct valid key ids: whk_20251101_01 ... whk_20251101_99, whk_20251102_01 ... */
function keyIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `whk_${20251101 + Math.floor(i / 99)}_${String((i % 99) + 1).padStart(2, '0')}`);
}

async function countStoreCalls(keyIdCount: number, requests: number, mode: StoreCallCount['mode']): Promise<StoreCallCount> {
  const ids = keyIds(keyIdCount);
  const secrets: Record<string, string> = {};
  for (const id of ids) secrets[id] = generateSharedSecret();
  const payload = payloadOfSize(256);
  const perKey = Math.ceil(requests / keyIdCount);
  const byKey = ids.map((id) => sealedEnvelopes(secrets[id] as string, payload, perKey, id));
  const envelopes: KompliantEnvelope[] = [];
  for (let i = 0; i < requests; i++) envelopes.push(byKey[i % keyIdCount]?.[Math.floor(i / keyIdCount)] as KompliantEnvelope);

  const { keyStore, calls } = countingKeyStore(secrets);
  let clockMs = Date.now();
  const receiver = createWebhookReceiver({ keyStore, cache: { now: () => clockMs } });
  // Resolves to the envelope when the lookup budget deferred it (503), undefined when accepted.
  const deliver = (envelope: KompliantEnvelope): Promise<KompliantEnvelope | undefined> =>
    receiver.receive(envelope).then(
      () => undefined,
      (error: unknown) => {
        if (isWebhookError(error) && error.code === 'KEY_STORE_UNAVAILABLE') return envelope;
        throw error;
      },
    );
  let pending = envelopes;
  let deferredByBudget = 0;
  let simulatedSeconds = 0;
  while (pending.length > 0) {
    const deferred: KompliantEnvelope[] = [];
    if (mode === 'sequential') {
      for (const envelope of pending) {
        const again = await deliver(envelope);
        if (again) deferred.push(again);
      }
    } else {
      for (const again of await Promise.all(pending.map(deliver))) if (again) deferred.push(again);
    }
    deferredByBudget += deferred.length;
    pending = deferred;
    if (pending.length > 0) {
      clockMs += 1000;
      simulatedSeconds++;
    }
  }
  let storeCalls = 0;
  let maxCallsForOneKeyId = 0;
  for (const n of calls.values()) {
    storeCalls += n;
    maxCallsForOneKeyId = Math.max(maxCallsForOneKeyId, n);
  }
  return { keyIds: keyIdCount, requests, mode, storeCalls, maxCallsForOneKeyId, deferredByBudget, simulatedSeconds };
}

/** Names of the timed key-path tasks (table rows and JSON keys). */
export const KEY_PATH_TASKS = {
  success: 'receive() success',
  open: 'openEnvelope() same envelope',
  tamperedData: 'receive() tampered ciphertext (401)',
  tamperedMetadata: 'receive() tampered metadata (401)',
  unknownKey: 'receive() unknown key id (401)',
} as const;

/** A copy of `envelope` with one base64 character of the ciphertext changed (still canonical base64). */
function tamperCiphertext(envelope: KompliantEnvelope): KompliantEnvelope {
  const at = envelope.data.length >> 1;
  const char = envelope.data.charAt(at) === 'A' ? 'B' : 'A';
  return { ...envelope, data: envelope.data.slice(0, at) + char + envelope.data.slice(at + 1) };
}

async function expectRejection(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    if (isWebhookError(error) && error.code === code) return;
    throw error;
  }
  throw new Error(`expected ${code}`);
}

function swallow(): undefined {
  return undefined;
}

async function timeKeyPath(smoke: boolean): Promise<Record<string, number>> {
  const secret = generateSharedSecret();
  const envelope = sealedEnvelopes(secret, payloadOfSize(1024), 1)[0] as KompliantEnvelope;
  const tamperedData = tamperCiphertext(envelope);
  const tamperedMetadata = { ...envelope, event_type: 'TAMPERED_EVENT' };
  const unknownKey = sealedEnvelopes(secret, payloadOfSize(1024), 1, 'whk_20251121_99')[0] as KompliantEnvelope;
  const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [BENCH_KEY_ID]: secret }) });
  await receiver.receive(envelope);
  await expectRejection(receiver.receive(tamperedData), 'DECRYPTION_FAILED');
  await expectRejection(receiver.receive(tamperedMetadata), 'DECRYPTION_FAILED');
  await expectRejection(receiver.receive(unknownKey), 'UNKNOWN_KEY');
  const tasks: TimedTask[] = [
    { name: KEY_PATH_TASKS.success, async: true, run: () => receiver.receive(envelope) },
    { name: KEY_PATH_TASKS.open, async: false, run: () => openEnvelope(envelope, secret) },
    { name: KEY_PATH_TASKS.tamperedData, async: true, run: () => receiver.receive(tamperedData).catch(swallow) },
    { name: KEY_PATH_TASKS.tamperedMetadata, async: true, run: () => receiver.receive(tamperedMetadata).catch(swallow) },
    { name: KEY_PATH_TASKS.unknownKey, async: true, run: () => receiver.receive(unknownKey).catch(swallow) },
  ];
  return measureInterleaved(tasks, smoke);
}

/** Runs bench 3. */
export async function runKeyPathBench(smoke: boolean): Promise<KeyPathResult> {
  const requests = smoke ? 1_000 : 10_000;
  const storeCalls: StoreCallCount[] = [];
  for (const count of [1, 2, 100]) {
    for (const mode of ['sequential', 'concurrent'] as const) storeCalls.push(await countStoreCalls(count, requests, mode));
  }
  return { storeCalls, usPerOp: await timeKeyPath(smoke) };
}

/** The markdown tables of bench 3. */
export function keyPathTables(result: KeyPathResult): ResultTable[] {
  const success = result.usPerOp[KEY_PATH_TASKS.success] ?? Number.NaN;
  const open = result.usPerOp[KEY_PATH_TASKS.open] ?? Number.NaN;
  return [
    {
      title: 'Bench 3a: key-store calls, createWebhookReceiver default configuration',
      columns: ['key ids', 'requests', 'mode', 'store calls', 'calls per key id (max)', '503 by lookup budget', 'simulated s'],
      rows: result.storeCalls.map((c) => [
        String(c.keyIds),
        String(c.requests),
        c.mode,
        String(c.storeCalls),
        String(c.maxCallsForOneKeyId),
        String(c.deferredByBudget),
        String(c.simulatedSeconds),
      ]),
      notes: [
        'A counting KeyStore around memoryKeyStore; requests round-robin over the key ids; "concurrent" starts all requests at once.',
        'Requests past the default budget for uncached ids (20 lookups/s for one account) get 503 and are re-delivered one simulated second later, as the sender retries.',
      ],
    },
    {
      title: 'Bench 3b: key path and rejections (1 KiB, median us/op)',
      columns: ['task', 'us/op', 'x success'],
      rows: [
        ...Object.entries(result.usPerOp).map(([name, us]) => [name, fixed(us, 2), ratio(us / success)]),
        ['warm key path: receive() - openEnvelope()', fixed(success - open, 2), ''],
      ],
    },
  ];
}
