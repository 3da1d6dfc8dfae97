// Claim, run, settle: one delivery holds its event id while the handler runs under its timeout, then marks it done or frees it.
import { randomUUID } from 'node:crypto';
import { WebhookError } from '../wire/errors.js';
import type { DeliveryPlan } from './options.js';

/** A claim this delivery holds; settle it exactly once. */
export interface HeldClaim {
  /** Marks the id done (`true`) or releases it for a retry (`false`). Never rejects. */
  settle(success: boolean): Promise<void>;
}

/**
 * Claims the event id. Resolves `'duplicate'` when it is already done, a {@link HeldClaim}
 * when this delivery now owns it; throws 409 DUPLICATE_IN_PROGRESS while another delivery
 * holds it, and 500 HANDLER_FAILED when the store itself fails (the sender retries).
 * Call only after decryption succeeded: unauthenticated ids never reach the store.
 */
export async function claimDelivery(plan: DeliveryPlan, id: string): Promise<'duplicate' | HeldClaim> {
  const store = plan.store;
  if (store === undefined) return { settle: () => Promise.resolve() };
  const token = randomUUID();
  let result: unknown;
  try {
    result = await store.claim(id, token, plan.leaseMs);
  } catch (cause) {
    throw new WebhookError('HANDLER_FAILED', { message: 'Idempotency store unavailable', cause });
  }
  if (result === 'done') return 'duplicate';
  if (result === 'in_progress') throw new WebhookError('DUPLICATE_IN_PROGRESS');
  if (result !== 'claimed') throw new WebhookError('HANDLER_FAILED', { message: 'Idempotency store unavailable' });
  let settled = false;
  return {
    async settle(success) {
      if (settled) return;
      settled = true;
      try {
        if (success) await store.complete(id, token, plan.ttlMs);
        else await store.release(id, token);
      } catch {
        // The lease expires on its own; a failed complete means a later retry may run again.
      }
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Releases the claim, then rejects with HANDLER_FAILED carrying the handler's error. */
async function failClaimed(claim: HeldClaim, cause: unknown): Promise<never> {
  await claim.settle(false);
  throw new WebhookError('HANDLER_FAILED', { cause });
}

/**
 * Runs `handler` for a claimed id with the handler timeout: resolves once it finished and the id
 * is marked done; throws HANDLER_FAILED (claim released) or HANDLER_TIMEOUT (claim kept until
 * the handler really settles, then marked done or released). A handler that returns without a
 * promise has already finished, so no timer is armed for it.
 */
export function runClaimed(plan: DeliveryPlan, claim: HeldClaim, handler: () => unknown): Promise<void> {
  let returned: unknown;
  try {
    returned = handler();
  } catch (cause) {
    return failClaimed(claim, cause);
  }
  if (!isThenable(returned)) return claim.settle(true);
  const finished = (async () => {
    try {
      await returned;
    } catch (cause) {
      return failClaimed(claim, cause);
    }
    return claim.settle(true);
  })();
  // One promise settled by whichever comes first (no race over a second timeout promise).
  // After a timeout nobody waits for `finished`; its rejection is still handled here.
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WebhookError('HANDLER_TIMEOUT')), plan.handlerTimeoutMs);
    finished.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
