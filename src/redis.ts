/**
 * A Redis-backed idempotency store, so several receiver instances deduplicate together.
 * Import from `kompliant-webhooks/redis`; the client (`ioredis`, node-redis `redis`, or any
 * eval-style client) is an optional peer dependency that you create and pass in (this module
 * never imports one at runtime).
 *
 * @packageDocumentation
 */
export * from './idempotency/redis.js';
