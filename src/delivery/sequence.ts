// The one delivery sequence every entry point runs after decryption: event age, claim by id, handler under its timeout, settle, report.
import type { KompliantEvent } from '../wire/event.js';
import type { DeliveryChannelMessage } from './channel.js';
import { claimDelivery, runClaimed, type HeldClaim } from './claim.js';
import { checkEventAge } from './event-age.js';
import type { DeliveryPlan } from './options.js';
import { reportDelivered } from './report.js';

/** How a delivery that reached its event ended well. */
export type DeliveredOutcome = 'handled' | 'duplicate';

/**
 * Delivers a verified `event` to `handler` at most once per id: checks the event age, claims the
 * id, runs the handler under `handlerTimeoutMs` and settles the claim, then reports the outcome.
 * Gives `'duplicate'` (handler not called) or `'handled'`; throws or rejects with the
 * `WebhookError` the caller answers and reports with `reportRejected`. `trace` is the delivery's
 * channel message (see `traceDelivery`), when anybody listens. When nothing waits (no store or
 * an in-process one, and a handler that returns without a promise) the outcome is given at
 * once, not as a promise: callers handle both (`result instanceof Promise ? await result : result`).
 */
export function deliver<TEvent extends KompliantEvent<unknown>>(
  plan: DeliveryPlan,
  started: number,
  event: TEvent,
  handler: (event: TEvent) => unknown,
  trace?: DeliveryChannelMessage,
): DeliveredOutcome | Promise<DeliveredOutcome> {
  const claim = claimEvent(plan, event);
  if (claim instanceof Promise) return claim.then((held) => deliverClaimed(plan, started, event, handler, trace, held));
  return deliverClaimed(plan, started, event, handler, trace, claim);
}

/** The rest of {@link deliver} once the claim is known. */
function deliverClaimed<TEvent extends KompliantEvent<unknown>>(
  plan: DeliveryPlan,
  started: number,
  event: TEvent,
  handler: (event: TEvent) => unknown,
  trace: DeliveryChannelMessage | undefined,
  claim: 'duplicate' | HeldClaim,
): DeliveredOutcome | Promise<DeliveredOutcome> {
  if (claim === 'duplicate') {
    reportDelivered(plan, started, 'duplicate', event, trace);
    return 'duplicate';
  }
  const handled = (): DeliveredOutcome => {
    reportDelivered(plan, started, 'handled', event, trace);
    return 'handled';
  };
  const ran = runClaimed(plan, claim, () => handler(event));
  return ran === undefined ? handled() : ran.then(handled);
}

/**
 * The first half of {@link deliver} for a caller that runs the work itself (Express pass-through
 * mode): checks the event age and claims the id (at once, or as a promise: see
 * `claimDelivery`). Settle the returned claim exactly once.
 */
export function claimEvent(plan: DeliveryPlan, event: KompliantEvent<unknown>): 'duplicate' | HeldClaim | Promise<'duplicate' | HeldClaim> {
  checkEventAge(plan, event.timestamp);
  return claimDelivery(plan, event);
}
