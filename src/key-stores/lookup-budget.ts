// The key cache's budget of store lookups: a shared pool for accounts never authenticated, a bucket per account, plausible key ids first.

/** Days the creation date of a key id may lie ahead of the clock (time zones, clock skew): 1. */
export const FUTURE_SKEW_DAYS = 1;
/** A key id dated more than this many days before the oldest key authenticated for its account is implausible: 400. */
export const OLDER_THAN_SEEN_DAYS = 400;

const DAY_MS = 24 * 60 * 60 * 1000;

/** The creation day (days since 1970-01-01, UTC) of `whk_YYYYMMDD_NN`, or undefined when the date is not a calendar date. */
export function keyIdDay(keyId: string): number | undefined {
  const match = /^whk_([0-9]{4})([0-9]{2})([0-9]{2})_[0-9]{2}$/.exec(keyId);
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return Math.floor(time / DAY_MS);
}

/** A token bucket: `capacity` tokens, refilled at `perSecond`. */
class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    t: number,
  ) {
    this.tokens = capacity;
    this.at = t;
  }

  /**
   * True when a token may be taken at `t` by a key id of `rank` (see {@link Rank}): a `fresh` one
   * needs one token, an `older` one needs one above a quarter of the capacity, an `implausible`
   * one one above half of it. So implausible ids never take the last half of a bucket, and the
   * last quarter is kept for key ids as new as the account's newest.
   */
  allows(t: number, rank: Rank): boolean {
    if (t > this.at) {
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.at) * this.perSecond) / 1000);
      this.at = t;
    }
    return this.tokens >= 1 + Math.floor((this.capacity * RESERVE_QUARTERS[rank]) / 4);
  }

  take(): void {
    this.tokens -= 1;
  }
}

/**
 * How likely a key id is to be a real key of its account, from its date alone:
 * - `fresh`: dated from the account's newest authenticated key (any date, for an account with
 *   none) up to a day ahead of the clock: where a newly activated key is;
 * - `older`: before the newest, within 400 days of the oldest: a retry of an event sealed with a
 *   key since replaced;
 * - `implausible`: not a calendar date, more than a day ahead, or far older than any key seen.
 */
export type Rank = 'fresh' | 'older' | 'implausible';

/** Quarters of a bucket kept back from each rank. */
const RESERVE_QUARTERS: Readonly<Record<Rank, number>> = { fresh: 0, older: 1, implausible: 2 };

/** An account that has authenticated a webhook: its own bucket and the creation days of its keys. */
interface KnownAccount {
  bucket: Bucket;
  oldestDay: number | undefined;
  newestDay: number | undefined;
}

/** Map insertion order as LRU order: re-inserting moves a key to the end; the oldest go past `max`. */
export function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done === true) break;
    map.delete(oldest.value);
  }
}

/** Options of {@link createLookupBudget}, checked by the cache. */
export interface LookupBudgetOptions {
  /** Refill of the pool shared by accounts not authenticated yet, per second. */
  sharedPerSecond: number;
  /** Size of that pool. */
  sharedBurst: number;
  /** Per account, per second (burst of the same size). */
  accountPerSecond: number;
  /** Most accounts tracked in each map (known; not known yet), least recently used dropped first. */
  maxAccounts: number;
  now: () => number;
}

/** The cache's lookup budget. */
export interface LookupBudget {
  /** Takes a token for a store lookup of (account, key id) now; false when the budget is spent. */
  take(accountId: string, keyId: string): boolean;
  /** Decryption with the secret of (account, key id) succeeded: the account gets its own reserved bucket. */
  authenticated(accountId: string, keyId: string): void;
}

/**
 * The lookup budget of a cache in front of a remote store:
 *
 * - an account that has authenticated a webhook (in this process) draws only from its own bucket
 *   (`accountPerSecond`, burst of the same size), never from the shared pool, so lookups made
 *   for other accounts cannot starve it;
 * - any other account needs a token from its own bucket and from the pool shared by all such
 *   accounts (`sharedBurst`, refilled at `sharedPerSecond`);
 * - key ids are ranked by their creation date (see {@link Rank}): an implausible one may only
 *   take tokens while its buckets are more than half full, one older than the account's newest
 *   key while they are more than a quarter full: when they run short, key ids as new as the
 *   account's newest (where a newly activated key is) are served first.
 *
 * Both account maps are bounded (`maxAccounts`, least recently used dropped): an attacker can
 * only evict accounts not known yet, whose bucket then starts full again, still behind the pool.
 */
export function createLookupBudget(options: LookupBudgetOptions): LookupBudget {
  const { sharedPerSecond, sharedBurst, accountPerSecond, maxAccounts, now } = options;
  const shared = new Bucket(sharedBurst, sharedPerSecond, now());
  const known = new Map<string, KnownAccount>();
  const unknown = new Map<string, Bucket>();

  const rankOf = (keyId: string, account: KnownAccount | undefined, t: number): Rank => {
    const day = keyIdDay(keyId);
    if (day === undefined || day > Math.floor(t / DAY_MS) + FUTURE_SKEW_DAYS) return 'implausible';
    if (account?.oldestDay !== undefined && day < account.oldestDay - OLDER_THAN_SEEN_DAYS) return 'implausible';
    return account?.newestDay !== undefined && day < account.newestDay ? 'older' : 'fresh';
  };

  return {
    take(accountId, keyId) {
      const t = now();
      const account = known.get(accountId);
      const rank = rankOf(keyId, account, t);
      if (account !== undefined) {
        touch(known, accountId, account, maxAccounts);
        if (!account.bucket.allows(t, rank)) return false;
        account.bucket.take();
        return true;
      }
      const bucket = unknown.get(accountId) ?? new Bucket(accountPerSecond, accountPerSecond, t);
      touch(unknown, accountId, bucket, maxAccounts);
      // Both checked before either is taken: a refusal costs no token.
      if (!bucket.allows(t, rank) || !shared.allows(t, rank)) return false;
      bucket.take();
      shared.take();
      return true;
    },
    authenticated(accountId, keyId) {
      const day = keyIdDay(keyId);
      const account = known.get(accountId);
      if (account !== undefined) {
        if (day !== undefined && (account.oldestDay === undefined || day < account.oldestDay)) account.oldestDay = day;
        if (day !== undefined && (account.newestDay === undefined || day > account.newestDay)) account.newestDay = day;
        touch(known, accountId, account, maxAccounts);
        return;
      }
      const bucket = unknown.get(accountId) ?? new Bucket(accountPerSecond, accountPerSecond, now());
      unknown.delete(accountId);
      touch(known, accountId, { bucket, oldestDay: day, newestDay: day }, maxAccounts);
    },
  };
}
