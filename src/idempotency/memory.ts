// An in-process idempotency store: claims held while their delivery runs (never evicted), done ids remembered up to a bound, oldest forgotten first.
import { checkPositiveInteger } from '../options/checks.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';
import { DoneIds } from './done-ids.js';
import { registerInProcessForm, type ClaimHolder, type InProcessIdempotencyStore } from './in-process.js';

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
  // Done ids in completion order, each with the time it is forgotten (see DoneIds for why not a Map).
  const done = new DoneIds();
  // A lower bound of every done id's expiry (deletions may leave it too low, never too high):
  // while the clock is below it nothing can have expired, so a full store skips the sweep
  // instead of walking all `max` entries on every claim.
  let earliestExpiry = Number.POSITIVE_INFINITY;

  /** Whether `id` is done and not yet forgotten (an expired entry is deleted here). */
  const isDone = (id: string): boolean => {
    const expiresAt = done.expiryOf(id);
    if (expiresAt === undefined) return false;
    if (expiresAt <= now()) {
      done.delete(id);
      return false;
    }
    return true;
  };

  const makeRoom = (): void => {
    if (claimCount() + done.size < max) return;
    const time = now();
    if (earliestExpiry <= time) earliestExpiry = done.deleteExpired(time);
    while (claimCount() + done.size >= max) {
      if (!done.deleteOldest()) break;
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
        const expiresAt = now() + ttlMs;
        done.add(id, expiresAt);
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
