/**
 * The Fastify adapter: a plugin that registers the webhook route, and a `preHandler` for
 * routes of your own. The plugin reads its route's body itself, in its own scope (so a
 * top-level `__proto__` key is an ignored field, as in every adapter); the preHandler takes the
 * body your app's parser produced, since the wire format authenticates field values, not bytes.
 *
 * @packageDocumentation
 */
export * from './adapters/fastify.js';
