// A Redis-backed idempotency store, so several receiver instances deduplicate together.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

/** Default key prefix: `kompliant-webhooks:idem:`. */
export const DEFAULT_REDIS_KEY_PREFIX = 'kompliant-webhooks:idem:';

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

// Values are `p:<token>` (in progress, with the lease as TTL) or `d:<token>` (done, with the
// retention as TTL). Each script runs atomically on the server.
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 2) == 'd:' then return 'done' end
  return 'in_progress'
end
redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
return 'claimed'`;
const COMPLETE = `if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[1], 'PX', ARGV[2])
end
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1`;

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /** A connected `ioredis` client (`new Redis(url)`) or cluster. Required. */
  client: Redis | Cluster;
  /**
   * Namespace for the keys, at most 64 characters. Default `kompliant-webhooks:idem:`.
   * Keys are the prefix plus the event id (ids outside `[A-Za-z0-9_-]{1,128}` are replaced by
   * their SHA-256), so a key is never longer than the prefix plus 128 characters.
   */
  prefix?: string;
}

/**
 * An {@link IdempotencyStore} in Redis: claims are one atomic Lua script (GET, then SET with a
 * PX lease only when free), completion and release only act while the caller's token still
 * holds the claim, and every key expires (lease 60 s, done 7 days by default).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisIdempotencyStore } from 'kompliant-webhooks/redis';
 *
 * const idempotency = redisIdempotencyStore({ client: new Redis(process.env.REDIS_URL!) });
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, idempotency, onEvent }));
 * ```
 */
export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('redisIdempotencyStore options must be an object');
  const { client } = options;
  if (typeof client !== 'object' || client === null || typeof (client as { eval?: unknown }).eval !== 'function') {
    throw new TypeError('client must be an ioredis client (an object with an eval method)');
  }
  const prefix = options.prefix ?? DEFAULT_REDIS_KEY_PREFIX;
  if (typeof prefix !== 'string' || prefix.length > 64) throw new TypeError('prefix must be a string of at most 64 characters');
  for (const name of Object.keys(options)) {
    if (name !== 'client' && name !== 'prefix') throw new TypeError(`redisIdempotencyStore: unknown option ${JSON.stringify(name)}`);
  }

  const key = (id: string): string =>
    prefix + (SAFE_ID.test(id) ? id : `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`);
  const run = (script: string, id: string, ...args: (string | number)[]): Promise<unknown> =>
    client.eval(script, 1, key(id), ...args);

  return {
    async claim(id, token, leaseMs): Promise<ClaimResult> {
      const result = await run(CLAIM, id, token, leaseMs);
      if (result === 'claimed' || result === 'in_progress' || result === 'done') return result;
      throw new Error('Unexpected reply from Redis');
    },
    async complete(id, token, ttlMs) {
      await run(COMPLETE, id, token, ttlMs);
    },
    async release(id, token) {
      await run(RELEASE, id, token);
    },
  };
}
