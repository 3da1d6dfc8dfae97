/**
 * kompliant-webhooks/otel: OpenTelemetry spans and metrics for every delivery, from the core's
 * `kompliant-webhooks:delivery` tracing channel. Needs the optional peer `@opentelemetry/api`.
 *
 * @packageDocumentation
 */
export { instrumentKompliantWebhooks } from './integrations/otel/instrument.js';
export type { KompliantOtelOptions } from './integrations/otel/instrument.js';
