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
 * Resolves `'duplicate'` (handler not called) or `'handled'`; rejects with the `WebhookError` the
 * caller answers and reports with `reportRejected`. `trace` is the delivery's channel message
 * (see `traceDelivery`), when anybody listens.
 */
export async function deliver<TEvent extends KompliantEvent<unknown>>(
  plan: DeliveryPlan,
  started: number,
  event: TEvent,
  handler: (event: TEvent) => unknown,
  trace?: DeliveryChannelMessage,
): Promise<DeliveredOutcome> {
  const claim = await claimEvent(plan, event);
  if (claim === 'duplicate') {
    reportDelivered(plan, started, 'duplicate', event, trace);
    return 'duplicate';
  }
  await runClaimed(plan, claim, () => handler(event));
  reportDelivered(plan, started, 'handled', event, trace);
  return 'handled';
}

/**
 * The first half of {@link deliver} for a caller that runs the work itself (Express pass-through
 * mode): checks the event age and claims the id. Settle the returned claim exactly once.
 */
export function claimEvent(plan: DeliveryPlan, event: KompliantEvent<unknown>): Promise<'duplicate' | HeldClaim> {
  checkEventAge(plan, event.timestamp);
  return claimDelivery(plan, event);
}
