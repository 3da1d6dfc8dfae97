// Polling with a deadline instead of fixed sleeps, and a witness that tells when a lease has lapsed on a store's own clock.
import { randomUUID } from 'node:crypto';
import type { IdempotencyStore } from '../../src/index.js';

/**
 * Reads until `done` holds, every `intervalMs` (50 ms), `timeoutMs` (30 s) at most, then returns
 * the last value read. The interval only paces the reads: the wait ends on the condition.
 */
export async function until<T>(read: () => Promise<T> | T, done: (value: T) => boolean, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Answers whether a lease has lapsed; once it answers true it keeps answering true. */
export type LapseWitness = () => Promise<boolean>;

/**
 * Claims a fresh id in `store` with a lease of `leaseMs`, now. The returned witness answers true
 * once that id can be claimed again: on the store's own clock (a Redis or PostgreSQL server's),
 * `leaseMs` has passed since this call, so any lease of at most `leaseMs` claimed before this
 * call has lapsed too, unless it was renewed. For a store whose claims lapse (not the memory
 * store: there a claim holds while the process lives).
 */
export async function leaseWitness(store: IdempotencyStore, leaseMs: number): Promise<LapseWitness> {
  const id = `wh_witness_${randomUUID().replaceAll('-', '')}`;
  if ((await store.claim(id, 'witness', leaseMs)) !== 'claimed') throw new Error('the witness id was not free');
  let lapsed = false;
  return async () => (lapsed ||= (await store.claim(id, randomUUID(), 60_000)) === 'claimed');
}
