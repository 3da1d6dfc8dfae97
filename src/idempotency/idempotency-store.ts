// The IdempotencyStore contract: claim an event id with a token and a lease, renew it, complete or release it.
/**
 * What an {@link IdempotencyStore} knows about an event id when a delivery tries to claim it.
 * - `claimed`: the id was free (or its lease expired) and now belongs to this delivery;
 * - `in_progress`: another delivery holds an unexpired lease on it;
 * - `done`: a delivery finished it successfully.
 */
export type ClaimResult = 'claimed' | 'in_progress' | 'done';

/**
 * Remembers which event ids are being handled and which are done, so that Kompliant's
 * at-least-once delivery (every non-200 is retried, up to 95 times) becomes exactly-once
 * handling. Every method is keyed by the envelope `id` (already authenticated: ids are only
 * claimed after decryption succeeded) and a random `token` naming the delivery, so a delivery
 * whose lease expired cannot complete or release a claim that another delivery took over.
 *
 * @example
 * ```ts
 * const store: IdempotencyStore = memoryIdempotencyStore({ max: 50_000 });
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, idempotency: store, onEvent }));
 * ```
 */
export interface IdempotencyStore {
  /** Atomically claims `id` for `leaseMs` unless it is in progress or done. */
  claim(id: string, token: string, leaseMs: number): Promise<ClaimResult>;
  /**
   * Extends the claim `token` holds on `id` to `leaseMs` from now (or takes it again when its lease
   * lapsed and nobody claimed the id since). Resolves `true` while the token holds the claim,
   * `false` once another delivery has claimed the id (or it is done). The receiver calls it every
   * third of the lease while the handler runs, and stops when the handler settles (or the process
   * dies). Shared stores implement it; a store without it either knows its holders are alive
   * (the in-process memory store) or keeps a claim for one lease only.
   */
  renew?(id: string, token: string, leaseMs: number): Promise<boolean>;
  /**
   * Marks `id` done for `ttlMs` when `token` holds the claim, or held it and its lease lapsed
   * without anyone claiming the id since. Never marks an id another token holds.
   */
  complete(id: string, token: string, ttlMs: number): Promise<void>;
  /** Frees `id` so a retry can run it again, if `token` still holds the claim. */
  release(id: string, token: string): Promise<void>;
  /**
   * Optional: `true` for a store whose calls settle without waiting on anything outside this
   * process (the memory store). The receiver then arms no `idempotencyTimeoutMs` timer for its
   * calls. Leave it unset for a store that does I/O: each of its calls gets the deadline.
   */
  readonly inProcess?: boolean;
}

/** Default lease of a claim: 60 s, longer than the sender's 30 s timeout. */
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 60_000;

/** Default deadline of each idempotency-store call: 2 s. */
export const DEFAULT_IDEMPOTENCY_TIMEOUT_MS = 2000;

/** Default time a done id is remembered: 7 days, covering the sender's retry horizon. */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Throws a TypeError naming `optionName` unless `value` has claim/complete/release functions. */
export function checkIdempotencyStore(value: unknown, optionName = 'idempotency'): IdempotencyStore {
  const store = value as Partial<IdempotencyStore> | null;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.claim !== 'function' ||
    typeof store.complete !== 'function' ||
    typeof store.release !== 'function'
  ) {
    throw new TypeError(`${optionName} must be false or an object with claim, complete and release methods`);
  }
  if (store.renew !== undefined && typeof store.renew !== 'function') throw new TypeError(`${optionName}.renew must be a function`);
  if (store.inProcess !== undefined && typeof store.inProcess !== 'boolean') throw new TypeError(`${optionName}.inProcess must be a boolean`);
  return store as IdempotencyStore;
}
