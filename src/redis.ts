/**
 * A Redis-backed idempotency store, so several receiver instances deduplicate together.
 * Import from `kompliant-webhooks/redis`; the `ioredis` client is an optional peer dependency
 * that you create and pass in (this module never imports it at runtime).
 *
 * @packageDocumentation
 */
export * from './idempotency/redis.js';
