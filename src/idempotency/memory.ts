// An in-process idempotency store: claims held while their delivery runs (never evicted), done ids remembered up to a bound, oldest forgotten first.
import { checkPositiveInteger } from '../options/checks.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';
import { registerInProcessForm, type ClaimHolder, type InProcessIdempotencyStore } from './in-process.js';

// How far the memory store's base time may fall behind the clock before its offsets are
// rewritten: 2^28 ms, about 3.1 days. An offset then stays under 2^30, V8's smallest
// small-integer bound, for every TTL up to 2^30 - 2^28 ms (about 9.3 days; the default is 7).
const REBASE_AFTER_MS = 2 ** 28;

/** Default number of ids {@link memoryIdempotencyStore} remembers: 10 000. */
export const DEFAULT_MEMORY_IDEMPOTENCY_MAX = 10_000;

/** Options of {@link memoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Most ids held at once. When full, expired done ids go first, then the oldest done ids, so
   * memory stays bounded under any traffic. An id in progress is never evicted: while every
   * entry is in progress the store holds one more per handler running at once. Default 10 000.
   */
  max?: number;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * An in-process {@link IdempotencyStore}: the default of every receiver, since deduplication in
 * one process is always better than none.
 *
 * What it guarantees: within one process, a claim is held for as long as its delivery runs (the
 * holder lives in the same process, so the lease is not needed and never lapses: a handler
 * slower than `idempotencyLeaseMs` is still run once), an id in progress is never evicted, and
 * the last `max` ids (10 000 by default) finished in this process are remembered as done for
 * `idempotencyTtlMs`, oldest forgotten first when full. A retry of an older id, a retry that
 * reaches another instance, or any retry after a restart runs the handler again. The full 7-day
 * replay protection needs a shared store (`redisIdempotencyStore` from `kompliant-webhooks/redis`).
 *
 * @example
 * ```ts
 * const idempotency = memoryIdempotencyStore({ max: 50_000 });
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, idempotency, onEvent }));
 * ```
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): IdempotencyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('memoryIdempotencyStore options must be an object');
  const max = checkPositiveInteger(options.max, 'max', DEFAULT_MEMORY_IDEMPOTENCY_MAX);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new TypeError('now must be a function');
  // Claims in progress, by id: the holder (a token string, or the receiver's claim object). They
  // end by complete or release only. A claim taken while no other is held sits in `soleId` and
  // `soleHolder`, any other in `moreClaims`: V8 reallocates a Map's table whenever a delete
  // empties it, so a Map holding one claim at a time (deliveries one after another, the usual
  // case) allocated a table per delivery. An id is in one place at most.
  let soleId: string | undefined;
  let soleHolder: ClaimHolder | undefined;
  const moreClaims = new Map<string, ClaimHolder>();
  const holderOf = (id: string): ClaimHolder | undefined => (id === soleId ? soleHolder : moreClaims.get(id));
  const claimCount = (): number => (soleId === undefined ? 0 : 1) + moreClaims.size;
  const endClaim = (id: string): void => {
    if (id === soleId) {
      soleId = undefined;
      soleHolder = undefined;
    } else moreClaims.delete(id);
  };
  // Done ids, by id: when each is forgotten, in milliseconds after `base`. A number per id, not
  // an object: done ids are nearly all of a full store. And a small integer, not a timestamp:
  // `Date.now() + ttl` (about 1.8e12) does not fit V8's small-integer form, so every entry held
  // a boxed number, allocated per delivery and kept (promoted to the old generation) with its
  // entry. Offsets stay small while `base` follows the clock: see `rebase`.
  const done = new Map<string, number>();
  let base = now();
  // A lower bound of every done id's expiry, on the clock (not an offset; deletions may leave
  // it too low, never too high): while the clock is below it nothing can have expired, so a full
  // store skips the sweep instead of walking all `max` entries on every claim.
  let earliestExpiry = Number.POSITIVE_INFINITY;
  let evictionCursor: Iterator<string> | undefined;

  /** Whether `id` is done and not yet forgotten (an expired entry is deleted here). */
  const isDone = (id: string): boolean => {
    const offset = done.get(id);
    if (offset === undefined) return false;
    if (offset + base <= now()) {
      done.delete(id);
      return false;
    }
    return true;
  };

  /**
   * One walk over the done ids at `time`: drops the expired ones, recomputes `earliestExpiry`
   * and, when `newBase` differs from `base`, rewrites every offset against it.
   */
  const sweep = (time: number, newBase: number): void => {
    earliestExpiry = Number.POSITIVE_INFINITY;
    for (const [id, offset] of done) {
      const expiresAt = offset + base;
      if (expiresAt <= time) done.delete(id);
      else {
        if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
        if (newBase !== base) done.set(id, expiresAt - newBase);
      }
    }
    base = newBase;
  };

  /**
   * Moves `base` to `time` once it is REBASE_AFTER_MS behind (a sweep that rewrites every
   * offset): O(size) once every few days, so an offset never outgrows the small-integer range
   * for any TTL up to about 9 days.
   */
  const rebase = (time: number): void => {
    if (time - base >= REBASE_AFTER_MS) sweep(time, time);
  };

  const makeRoom = (): void => {
    if (claimCount() + done.size < max) return;
    const time = now();
    if (earliestExpiry <= time) sweep(time, base);
    // Map iterates in insertion order: the first key is the oldest done id. The cursor is kept
    // across calls because every key it passed was deleted right away and keys are only ever
    // appended, so it always stands at the oldest entry; a fresh iterator would first skip every
    // slot deleted since the Map last compacted (thousands, once the store is full).
    while (claimCount() + done.size >= max && done.size > 0) {
      let oldest = evictionCursor?.next();
      if (oldest === undefined || oldest.done === true) {
        evictionCursor = done.keys();
        oldest = evictionCursor.next();
      }
      if (oldest.done === true) break;
      done.delete(oldest.value);
    }
  };

  // The calls answer at once; the receiver uses this form directly (no promise, no deadline timer).
  const form: InProcessIdempotencyStore = {
    claim(id, holder): ClaimResult {
      if (holderOf(id) !== undefined) return 'in_progress';
      if (isDone(id)) return 'done';
      makeRoom();
      if (soleId === undefined) {
        soleId = id;
        soleHolder = holder;
      } else moreClaims.set(id, holder);
      return 'claimed';
    },
    complete(id, holder, ttlMs): void {
      if (holderOf(id) === holder) {
        endClaim(id);
        const time = now();
        rebase(time);
        const expiresAt = time + ttlMs;
        done.set(id, expiresAt - base);
        if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
      }
    },
    release(id, holder): void {
      if (holderOf(id) === holder) endClaim(id);
    },
  };

  return registerInProcessForm(
    {
      claim: (id, token) => Promise.resolve(form.claim(id, token)),
      complete: (id, token, ttlMs) => Promise.resolve(form.complete(id, token, ttlMs)),
      release: (id, token) => Promise.resolve(form.release(id, token)),
    },
    form,
  );
}
