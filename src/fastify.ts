/**
 * The Fastify adapter: a plugin that registers the webhook route, and a `preHandler` for
 * routes of your own. Fastify's own body parsing stays in place: the event is taken from the
 * body Fastify parsed, since the wire format authenticates field values, not bytes.
 *
 * @packageDocumentation
 */
export * from './adapters/fastify.js';
