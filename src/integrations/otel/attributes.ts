// The span and metric attributes of one delivery: identifiers, outcome and code only, never a secret or a payload value.
import type { Attributes } from '@opentelemetry/api';
import type { DeliveryChannelMessage } from '../../delivery/channel.js';

/** `messaging.system` for every delivery. */
export const MESSAGING_SYSTEM = 'kompliant';

/** The span name: `kompliant.webhook WORKFLOW_COMPLETED` once the event type is known, else `kompliant.webhook`. */
export function spanName(message: DeliveryChannelMessage): string {
  return message.event === undefined ? 'kompliant.webhook' : `kompliant.webhook ${message.event.event_type}`;
}

/** The attributes a span starts with. */
export function startAttributes(): Attributes {
  return { 'messaging.system': MESSAGING_SYSTEM, 'messaging.operation.type': 'process', 'messaging.operation.name': 'process' };
}

/** The span attributes known when the delivery ends: the authenticated identifiers, the outcome and the error code. */
export function endAttributes(message: DeliveryChannelMessage): Attributes {
  const attributes: Attributes = {};
  const event = message.event;
  if (event !== undefined) {
    attributes['messaging.message.id'] = event.id;
    attributes['kompliant.event_type'] = event.event_type;
    attributes['kompliant.key_id'] = event.key_id;
    attributes['kompliant.account_id'] = event.account_id;
    attributes['kompliant.retry_count'] = event.retry_count;
  }
  if (message.outcome !== undefined) attributes['kompliant.outcome'] = message.outcome;
  if (message.code !== undefined) attributes['kompliant.error_code'] = message.code;
  if (message.status !== undefined) attributes['kompliant.status'] = message.status;
  return attributes;
}

/** The metric attributes: few values each (outcome, code, event type), so the series stay bounded. */
export function metricAttributes(message: DeliveryChannelMessage): Attributes {
  const attributes: Attributes = { 'messaging.system': MESSAGING_SYSTEM, 'kompliant.outcome': message.outcome ?? 'failed' };
  if (message.code !== undefined) attributes['kompliant.error_code'] = message.code;
  if (message.event !== undefined) attributes['kompliant.event_type'] = message.event.event_type;
  return attributes;
}
