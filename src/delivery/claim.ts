// Claim, run, settle: one delivery holds its event id while the handler runs, within the delivery's deadline (renewing a shared store's lease), then marks it done or frees it; every store call that can wait has a deadline.
import { randomUUID } from 'node:crypto';
import type { IdempotencyStore } from '../idempotency/idempotency-store.js';
import { WebhookError } from '../wire/errors.js';
import type { KompliantEvent } from '../wire/event.js';
import { isThenable, withDeadline } from './deadline.js';
import { checkEventAge } from './event-age.js';
import { eventLogFields, writeLog } from './logger.js';
import { timeLeft, type ResolvedDeliveryOptions } from './options.js';

/** A claim this delivery holds; settle it exactly once. */
export interface HeldClaim {
  /**
   * Keeps the id held while the delivery's time lasts (renewing a shared store's lease), then
   * lets it lapse. Call it when the outcome is not known at once (an async handler, a pass-through
   * route); a claim settled at once needs no timer.
   */
  hold(): void;
  /**
   * Stops renewing, then marks the id done (`true`) or releases it for a retry (`false`). Never
   * rejects and never waits longer than the store deadline: a store that fails or misses it is
   * logged at warn, and the claim's lease then expires on its own.
   */
  settle(success: boolean): Promise<void>;
}

const NO_CLAIM: HeldClaim = { hold: () => undefined, settle: () => Promise.resolve() };

/**
 * What a store's claim answer means for this delivery: `'claimed'` (it owns the id) or
 * `'duplicate'` (already done); throws 409 DUPLICATE_IN_PROGRESS while another delivery holds
 * it, and 503 IDEMPOTENCY_STORE_UNAVAILABLE for anything that is not a `ClaimResult`.
 */
function readClaimResult(result: unknown): 'claimed' | 'duplicate' {
  if (result === 'done') return 'duplicate';
  if (result === 'in_progress') throw new WebhookError('DUPLICATE_IN_PROGRESS');
  if (result !== 'claimed') {
    throw new WebhookError('IDEMPOTENCY_STORE_UNAVAILABLE', { cause: new Error(`claim answered ${typeof result === 'string' ? JSON.stringify(result.slice(0, 32)) : typeof result}, not a ClaimResult`) });
  }
  return 'claimed';
}

/**
 * One store call under a deadline (`idempotencyTimeoutMs` unless a shorter `ms` is given); a store
 * that never waits (`inProcess`) is called without a timer.
 */
async function storeCall<T>(plan: ResolvedDeliveryOptions, store: IdempotencyStore, call: () => Promise<T>, ms = plan.storeTimeoutMs): Promise<T> {
  if (store.inProcess === true) return call();
  return withDeadline(call, ms, () => new Error(`Idempotency store did not answer within ${ms} ms`));
}

/**
 * Holds the claim while the delivery's time lasts, then lets it lapse: until the delivery's
 * deadline a store with `renew` has its lease renewed; after it, renewal stops (the lease ends
 * on its own), and a store without `renew` (the memory store, whose claims never lapse) is
 * released one lease later, so a handler that never settles does not hold its id forever.
 * Returns the function that stops it all (the claim is settled).
 */
function holdWhileTimeLasts(plan: ResolvedDeliveryOptions, store: IdempotencyStore, event: KompliantEvent<unknown>, token: string): () => void {
  const { id } = event;
  const stopRenewing = keepRenewing(plan, store, event, token);
  let lapse: ReturnType<typeof setTimeout> | undefined;
  const ended = (): void => {
    stopRenewing();
    if (store.renew !== undefined) return;
    lapse = setTimeout(() => void storeCall(plan, store, () => store.release(id, token)).catch(() => undefined), plan.leaseMs);
    lapse.unref?.();
  };
  const end = plan.endsAt === undefined ? undefined : setTimeout(ended, Math.max(0, plan.endsAt - Date.now()));
  end?.unref?.();
  return () => {
    stopRenewing();
    clearTimeout(end);
    clearTimeout(lapse);
  };
}

/**
 * Renews the claim every third of the lease until stopped (stores with `renew` only). The timer
 * is unref'd, so renewal never keeps a process alive and stops when the process dies; a renewal
 * that fails is tried again a third of a lease later. Returns the function that stops it.
 */
function keepRenewing(plan: ResolvedDeliveryOptions, store: IdempotencyStore, event: KompliantEvent<unknown>, token: string): () => void {
  const { id } = event;
  const renew = store.renew;
  if (renew === undefined) return () => undefined;
  const every = Math.max(1, Math.floor(plan.leaseMs / 3));
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (): void => {
    timer = setTimeout(tick, every);
    timer.unref?.();
  };
  const tick = (): void => {
    storeCall(plan, store, () => renew.call(store, id, token, plan.leaseMs)).then(
      (held) => {
        if (stopped) return;
        if (held) return schedule();
        stopped = true;
        writeLog(plan.logger, 'warn', eventLogFields(event), 'kompliant webhook claim lost while the handler runs: another delivery claimed the id');
      },
      () => {
        if (!stopped) schedule();
      },
    );
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Checks the event age (`maxEventAgeMs`), then claims the event id under the store deadline (or
 * what is left of the delivery's, when less). Gives `'duplicate'` when it is already done, a
 * {@link HeldClaim} when this delivery now owns it; throws 409 DUPLICATE_IN_PROGRESS while
 * another delivery holds it, and 503 IDEMPOTENCY_STORE_UNAVAILABLE when the store fails or misses
 * its deadline (the sender retries). Call only after decryption succeeded: unauthenticated ids never reach the store.
 */
export async function claimDelivery(plan: ResolvedDeliveryOptions, event: KompliantEvent<unknown>): Promise<'duplicate' | HeldClaim> {
  checkEventAge(plan, event.timestamp);
  const store = plan.store;
  if (store === undefined) return NO_CLAIM;
  const { id } = event;
  const token = randomUUID();
  const claiming = new Promise<unknown>((resolve) => resolve(store.claim(id, token, plan.leaseMs)));
  let result: unknown;
  try {
    result = await storeCall(plan, store, () => claiming, timeLeft(plan, plan.storeTimeoutMs));
  } catch (cause) {
    // A claim that missed its deadline may still have taken the id on the store's side: once
    // the store answers (taken, or failed with its answer lost) free it with this claim's token,
    // so the retry does not get 409 for a whole lease. A release with a token that holds
    // nothing changes nothing.
    const release = (): unknown => storeCall(plan, store, () => store.release(id, token));
    claiming.then((late) => (late === 'claimed' ? release() : undefined), release).catch(() => undefined);
    throw new WebhookError('IDEMPOTENCY_STORE_UNAVAILABLE', { cause });
  }
  if (readClaimResult(result) === 'duplicate') return 'duplicate';
  let stopHolding = (): void => undefined;
  let settled = false;
  const settle = async (success: boolean): Promise<void> => {
    stopHolding();
    try {
      if (success) await storeCall(plan, store, () => store.complete(id, token, plan.ttlMs));
      else await storeCall(plan, store, () => store.release(id, token));
    } catch {
      // The handler's outcome stands (a success is still answered 200); the lease expires on its own.
      const message = success
        ? 'kompliant webhook handled, but the idempotency store did not record it done: a retry after the lease may run it again'
        : 'kompliant webhook failed, and the idempotency store did not release the claim: retries get 409 until the lease ends';
      writeLog(plan.logger, 'warn', { ...eventLogFields(event), outcome: success ? 'handled' : 'failed' }, message);
    }
  };
  return {
    hold() {
      if (!settled) stopHolding = holdWhileTimeLasts(plan, store, event, token);
    },
    settle(success) {
      if (settled) return Promise.resolve();
      settled = true;
      return settle(success);
    },
  };
}

/** Releases the claim, then rejects with HANDLER_FAILED carrying the handler's error. */
async function failClaimed(claim: HeldClaim, cause: unknown): Promise<never> {
  await claim.settle(false);
  throw new WebhookError('HANDLER_FAILED', { cause });
}

/**
 * Runs `handler` for a claimed id with the handler timeout (`handlerTimeoutMs`, or what is left of
 * the delivery's time when less): resolves once it finished and the id is settled as done; throws
 * HANDLER_FAILED (claim released) or HANDLER_TIMEOUT (claim held while the delivery's time lasts,
 * marked done or released when the handler really settles). The timeout covers the handler
 * alone: settling has its own deadline and never turns a finished handler into a failure. A
 * handler that returns without a promise has already finished, so no timer is armed for it.
 */
export function runClaimed(plan: ResolvedDeliveryOptions, claim: HeldClaim, handler: () => unknown): Promise<void> {
  let returned: unknown;
  try {
    returned = handler();
  } catch (cause) {
    return failClaimed(claim, cause);
  }
  if (!isThenable(returned)) return claim.settle(true);
  claim.hold();
  // One promise settled by whichever comes first (no race over a second timeout promise).
  // After a timeout nobody waits for the handler; its outcome still settles the claim here.
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WebhookError('HANDLER_TIMEOUT')), timeLeft(plan, plan.handlerTimeoutMs));
    Promise.resolve(returned).then(
      () => {
        clearTimeout(timer);
        void claim.settle(true).then(resolve);
      },
      (cause: unknown) => {
        clearTimeout(timer);
        failClaimed(claim, cause).catch(reject);
      },
    );
  });
}
