// The synchronous form of an idempotency store that lives in this process: the receiver calls it without promises or deadline timers, since it never waits.
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

/**
 * Who holds a claim: the token string of {@link IdempotencyStore} calls, or, in-process, any
 * object unique to the claim (the receiver passes its claim object: nothing to build per request).
 * Compared by identity.
 */
export type ClaimHolder = string | object;

/**
 * What an in-process store answers at once: the same calls as {@link IdempotencyStore}, without
 * promises. A deadline guards a wait on something outside the process; these calls return
 * before anything else runs, so the receiver needs neither a timer nor a promise for them.
 */
export interface InProcessIdempotencyStore {
  claim(id: string, holder: ClaimHolder): ClaimResult;
  complete(id: string, holder: ClaimHolder, ttlMs: number): void;
  release(id: string, holder: ClaimHolder): void;
}

// Registered by the store that has the form (the memory store), looked up by the receiver. A
// WeakMap, not a property: the store object users see keeps exactly the public contract.
const inProcessForms = new WeakMap<IdempotencyStore, InProcessIdempotencyStore>();

/** Records that `store` answers every call at once through `form`. Returns `store`. */
export function registerInProcessForm(store: IdempotencyStore, form: InProcessIdempotencyStore): IdempotencyStore {
  inProcessForms.set(store, form);
  return store;
}

/** The synchronous form of `store`, when it has one (a store built by this library's memory store). */
export function inProcessForm(store: IdempotencyStore): InProcessIdempotencyStore | undefined {
  return inProcessForms.get(store);
}
