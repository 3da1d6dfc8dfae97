// The delivery sequence after decryption: event age, claim by id, handler under its timeout, settle.
import type { KompliantEvent } from '../wire/event.js';
import { claimDelivery, runClaimed } from './claim.js';
import type { ResolvedDeliveryOptions } from './options.js';

/** How a delivery that reached its event ended well. */
export type DeliveredOutcome = 'handled' | 'duplicate';

/**
 * Delivers a verified `event` to `handler` at most once per id: checks the event age, claims the
 * id, runs the handler under `handlerTimeoutMs` and settles the claim. Gives `'duplicate'`
 * (handler not called) or `'handled'`; rejects with the `WebhookError` the caller answers.
 */
export async function deliver<TEvent extends KompliantEvent<unknown>>(
  plan: ResolvedDeliveryOptions,
  event: TEvent,
  handler: (event: TEvent) => unknown,
): Promise<DeliveredOutcome> {
  const claim = await claimDelivery(plan, event);
  if (claim === 'duplicate') return 'duplicate';
  await runClaimed(plan, claim, () => handler(event));
  return 'handled';
}
