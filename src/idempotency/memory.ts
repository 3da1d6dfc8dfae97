// An in-process idempotency store: claims held while their delivery runs (never evicted), done ids remembered up to a bound, oldest forgotten first.
import { checkPositiveInteger } from '../options/checks.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

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
 * What it guarantees: within one process, a claim is held until its delivery releases it (the
 * holder lives in the same process, so the store needs no lease: the receiver releases a claim
 * whose handler is still running one `idempotencyLeaseMs` after `deliveryTimeoutMs`), an id in progress is never evicted, and
 * the last `max` ids (10 000 by default) finished in this process are remembered as done for
 * `idempotencyTtlMs`, oldest forgotten first when full. A retry of an older id, a retry that
 * reaches another instance, or any retry after a restart runs the handler again. The full 7-day
 * replay protection needs a shared store (`redisIdempotencyStore` from `kompliant-webhooks/redis`).
 * Its calls never wait (`inProcess: true`), so the receiver arms no deadline timer for them.
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
  // Claims in progress: id -> token. They end by complete or release only.
  const claims = new Map<string, string>();
  // Done ids in completion order (a Map keeps insertion order): id -> time it is forgotten.
  const done = new Map<string, number>();
  // A lower bound of every done id's expiry (deletions may leave it too low, never too high):
  // while the clock is below it nothing can have expired, so a full store skips the sweep
  // instead of walking all `max` entries on every claim.
  let earliestExpiry = Number.POSITIVE_INFINITY;

  /** Whether `id` is done and not yet forgotten (an expired entry is deleted here). */
  const isDone = (id: string): boolean => {
    const expiresAt = done.get(id);
    if (expiresAt === undefined) return false;
    if (expiresAt <= now()) {
      done.delete(id);
      return false;
    }
    return true;
  };

  // Done ids oldest first, resumed by each eviction: a fresh iterator would step over every
  // entry deleted since the map last compacted, thousands per claim once the store is full.
  let oldest = done.keys();

  /** Forgets the oldest done id; false when there is none. */
  const forgetOldest = (): boolean => {
    let next = oldest.next();
    if (next.done === true) {
      oldest = done.keys();
      next = oldest.next();
    }
    if (next.done === true) return false;
    done.delete(next.value);
    return true;
  };

  /** When full: deletes expired done ids, then the oldest done ids, until one more fits. */
  const makeRoom = (): void => {
    if (claims.size + done.size < max) return;
    const time = now();
    if (earliestExpiry <= time) {
      earliestExpiry = Number.POSITIVE_INFINITY;
      for (const [id, expiresAt] of done) {
        if (expiresAt <= time) done.delete(id);
        else if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
      }
    }
    while (claims.size + done.size >= max && forgetOldest());
  };

  const store: IdempotencyStore = {
    async claim(id, token): Promise<ClaimResult> {
      if (claims.has(id)) return 'in_progress';
      if (isDone(id)) return 'done';
      makeRoom();
      claims.set(id, token);
      return 'claimed';
    },
    async complete(id, token, ttlMs): Promise<void> {
      if (claims.get(id) !== token) return;
      claims.delete(id);
      const expiresAt = now() + ttlMs;
      done.delete(id);
      done.set(id, expiresAt);
      if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
    },
    async release(id, token): Promise<void> {
      if (claims.get(id) === token) claims.delete(id);
    },
  };
  // Not enumerable: a copy made by spreading the store (`{ ...store, claim: myClaim }`) may
  // replace a method with one that waits, so it does not inherit the promise never to.
  return Object.defineProperty(store, 'inProcess', { value: true, enumerable: false });
}
