// The optional maximum event age (spec section 4: off by default), checked on the authenticated timestamp.
import { WebhookError } from '../wire/errors.js';
import type { ResolvedDeliveryOptions } from './options.js';

/**
 * Throws 400 INVALID_ENVELOPE when `maxEventAgeMs` is set and the (authenticated) timestamp is
 * older than that. The clock (`now`, default `Date.now()`) is read only when the check is on.
 */
export function checkEventAge(plan: ResolvedDeliveryOptions, timestamp: string, now?: number): void {
  if (plan.maxEventAgeMs === undefined) return;
  if ((now ?? Date.now()) - Date.parse(timestamp) > plan.maxEventAgeMs) {
    throw new WebhookError('INVALID_ENVELOPE', { message: 'Event is older than maxEventAgeMs' });
  }
}
