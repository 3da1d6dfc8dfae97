/**
 * The event catalog: a Standard Schema (v1) per documented event type (`kompliantSchemas`, no
 * dependency), `isKnownEvent` to tell the ten documented types from new ones (the step that
 * lets `switch (event.event_type)` narrow), and `assertNever` to prove a switch handles them all.
 *
 * @packageDocumentation
 */
export { kompliantSchemas } from './events/schemas.js';
export type { KompliantEventSchema, KompliantSchemas } from './events/schemas.js';
export { assertNever, isKnownEvent, isKnownEventType } from './events/guards.js';
export { KOMPLIANT_EVENT_TYPES } from './wire/event.js';
