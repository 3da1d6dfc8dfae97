// Telling the ten documented event types apart from the rest, and proving every one is handled.
import { KOMPLIANT_EVENT_TYPES, type KnownEventType, type KnownKompliantEvent, type KompliantEventWithData } from '../wire/event.js';

const KNOWN: ReadonlySet<string> = new Set(KOMPLIANT_EVENT_TYPES);

/** True when `eventType` is one of the ten documented types ({@link KOMPLIANT_EVENT_TYPES}). */
export function isKnownEventType(eventType: unknown): eventType is KnownEventType {
  return typeof eventType === 'string' && KNOWN.has(eventType);
}

/**
 * True when the event is of one of the ten documented types. The step that makes narrowing
 * work: after it, `switch (event.event_type)` narrows `event.data` per type (TypeScript cannot
 * narrow while the unknown member's `event_type` is any string); in the `else` branch the event
 * is an `UnknownKompliantEvent`. It checks the type name only: the payload's shape is what
 * Kompliant publishes, checked only when you pass `schemas: kompliantSchemas`.
 *
 * @example
 * ```ts
 * import type { KompliantEvent } from 'kompliant-webhooks';
 * import { assertNever, isKnownEvent } from 'kompliant-webhooks/schemas';
 *
 * function onEvent(event: KompliantEvent): void {
 *   if (!isKnownEvent(event)) return console.log('new event type', event.event_type);
 *   switch (event.event_type) {
 *     case 'DECISION_DOCUMENT_GENERATED': return console.log(event.data.decision_document_id);
 *     default: return console.log(event.event_type);
 *   }
 * }
 * ```
 */
export function isKnownEvent(event: KompliantEventWithData<unknown>): event is KnownKompliantEvent {
  return typeof event === 'object' && event !== null && KNOWN.has(event.event_type);
}

/**
 * The exhaustiveness check: call it in the `default` of a `switch (event.event_type)` over a
 * known event; the call only compiles when every case is handled. Throws a TypeError if ever
 * reached at runtime (naming the event type, nothing from the payload).
 *
 * @example
 * ```ts
 * import type { KnownKompliantEvent } from 'kompliant-webhooks';
 * import { assertNever } from 'kompliant-webhooks/schemas';
 *
 * function subjectOf(event: KnownKompliantEvent): string {
 *   switch (event.event_type) {
 *     case 'WORKFLOW_CREATED':
 *     case 'WORKFLOW_STARTED':
 *     case 'WORKFLOW_COMPLETED':
 *     case 'SUBJECT_RECORD_DATA_UPDATED':
 *     case 'SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED':
 *     case 'DECISION_DOCUMENT_GENERATED':
 *     case 'MBTRUST_SUCCESS':
 *     case 'MBTRUST_FAILURE':
 *     case 'PROPAY_SUCCESS':
 *     case 'PROPAY_FAILURE':
 *       return event.data.subject_record_id;
 *     default:
 *       return assertNever(event);
 *   }
 * }
 * ```
 */
export function assertNever(value: never): never {
  const type = (value as { event_type?: unknown } | null)?.event_type;
  throw new TypeError(`Unhandled event type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 64)) : 'value'}`);
}
