// An in-process idempotency store: claims by id with leases, done ids remembered up to a bound.
import { checkPositiveInteger } from '../options/checks.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

/** Default number of ids {@link memoryIdempotencyStore} remembers: 10 000. */
export const DEFAULT_MEMORY_IDEMPOTENCY_MAX = 10_000;

/** Options of {@link memoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Most ids held at once. When full, expired entries go first, then the oldest entry, so
   * memory stays bounded under any traffic. Default 10 000.
   */
  max?: number;
  /** Clock in milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/** A claim in progress: the delivery's token and when its lease ends. */
interface Claim {
  token: string;
  expiresAt: number;
}

/**
 * What the store holds per id: a {@link Claim} while in progress, or only the expiry time
 * once done. Done ids are nearly all of a full store, so each costs a number, not an object
 * and a token string: less memory to hold and less for the garbage collector to move.
 */
type Entry = Claim | number;

const expiryOf = (entry: Entry): number => (typeof entry === 'number' ? entry : entry.expiresAt);

/**
 * An in-process {@link IdempotencyStore}: the default of every receiver, since deduplication in
 * one process is always better than none. It does not help across instances (use
 * `redisIdempotencyStore` from `kompliant-webhooks/redis` there) and forgets on restart.
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
  const entries = new Map<string, Entry>();
  // A lower bound of every entry's expiresAt (deletions may leave it too low, never too high):
  // while the clock is below it nothing can have expired, so a full store skips the sweep
  // instead of walking all `max` entries on every claim.
  let earliestExpiry = Number.POSITIVE_INFINITY;
  let evictionCursor: Iterator<string> | undefined;

  const put = (id: string, entry: Entry): void => {
    entries.set(id, entry);
    const expiresAt = expiryOf(entry);
    if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
  };

  const live = (id: string): Entry | undefined => {
    const entry = entries.get(id);
    if (entry === undefined) return undefined;
    if (expiryOf(entry) <= now()) {
      entries.delete(id);
      return undefined;
    }
    return entry;
  };

  const makeRoom = (): void => {
    if (entries.size < max) return;
    const time = now();
    if (earliestExpiry <= time) {
      earliestExpiry = Number.POSITIVE_INFINITY;
      for (const [id, entry] of entries) {
        const expiresAt = expiryOf(entry);
        if (expiresAt <= time) entries.delete(id);
        else if (expiresAt < earliestExpiry) earliestExpiry = expiresAt;
      }
    }
    // Map iterates in insertion order: the first key is the oldest. The cursor is kept across
    // calls because every key it passed was deleted right away and keys are only ever appended,
    // so it always stands at the oldest entry; a fresh iterator would first skip every slot
    // deleted since the Map last compacted (thousands, once the store is full).
    while (entries.size >= max) {
      let oldest = evictionCursor?.next();
      if (oldest === undefined || oldest.done === true) {
        evictionCursor = entries.keys();
        oldest = evictionCursor.next();
      }
      if (oldest.done === true) break;
      entries.delete(oldest.value);
    }
  };

  /** The claim `token` holds on `id`, if that delivery still holds it. */
  const heldClaim = (id: string, token: string): Claim | undefined => {
    const entry = live(id);
    return typeof entry === 'object' && entry.token === token ? entry : undefined;
  };

  return {
    claim(id, token, leaseMs): Promise<ClaimResult> {
      const entry = live(id);
      if (entry !== undefined) return Promise.resolve(typeof entry === 'number' ? 'done' : 'in_progress');
      makeRoom();
      put(id, { token, expiresAt: now() + leaseMs });
      return Promise.resolve('claimed');
    },
    complete(id, token, ttlMs): Promise<void> {
      if (heldClaim(id, token) !== undefined) {
        entries.delete(id);
        put(id, now() + ttlMs);
      }
      return Promise.resolve();
    },
    release(id, token): Promise<void> {
      if (heldClaim(id, token) !== undefined) entries.delete(id);
      return Promise.resolve();
    },
  };
}
