// A Redis-backed idempotency store, so several receiver instances deduplicate together; works with ioredis, node-redis or any eval-style client.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

/** Default key prefix: `kompliant-webhooks:idem:`. */
const DEFAULT_REDIS_KEY_PREFIX = 'kompliant-webhooks:idem:';

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
// The holder extends its lease, or takes the id again when the lease lapsed and nobody claimed it since.
const RENEW = `local v = redis.call('GET', KEYS[1])
if v == 'p:' .. ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], 'p:' .. ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
// Done when the token holds the claim, or its lease lapsed and nobody holds the id now.
const COMPLETE = `local v = redis.call('GET', KEYS[1])
if v == 'p:' .. ARGV[1] or not v then
  redis.call('SET', KEYS[1], 'd:' .. ARGV[1], 'PX', ARGV[2])
end
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == 'p:' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 1`;

/**
 * A client with ioredis' script calls: `eval(script, numKeys, ...keysAndArgs)` and, to run a
 * loaded script by its SHA-1, `evalsha(sha1, numKeys, ...keysAndArgs)`. ioredis (`Redis`,
 * `Cluster`) and its forks have both; wrap any other client in an object with these two
 * methods (without `evalsha`, every call sends the whole script with EVAL).
 */
export interface RedisEvalClient {
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  evalsha?(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

/** node-redis (`redis`, `createClient()`; tested with v5, v4 has the same calls): `evalSha` and `eval` with `{ keys, arguments }`. */
export interface NodeRedisEvalClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /**
   * A connected client. Required. An `ioredis` client (`new Redis(url)`) or cluster, a node-redis
   * client (`await createClient({ url }).connect()`), or any {@link RedisEvalClient}.
   */
  client: Redis | Cluster | NodeRedisEvalClient | RedisEvalClient;
  /**
   * Namespace for the keys, at most 64 characters. Keys are the prefix plus the event id (ids
   * outside `[A-Za-z0-9_-]{1,128}` are replaced by their SHA-256), so a key is never longer
   * than the prefix plus 128 characters.
   *
   * @defaultValue `'kompliant-webhooks:idem:'`
   */
  prefix?: string;
}

/** Runs one of the store's scripts on one key. */
type ScriptRunner = (script: Script, key: string, args: string[]) => Promise<unknown>;

interface Script {
  source: string;
  sha1: string;
}

const script = (source: string): Script => ({ source, sha1: createHash('sha1').update(source, 'utf8').digest('hex') });
const SCRIPTS = { claim: script(CLAIM), renew: script(RENEW), complete: script(COMPLETE), release: script(RELEASE) };

/** Redis answers EVALSHA with NOSCRIPT while the script is not in its cache (first use, restart, SCRIPT FLUSH). */
const isNoScript = (error: unknown): boolean => /^NOSCRIPT\b/.test(String((error as { message?: unknown } | null)?.message ?? ''));

/**
 * EVALSHA first, so the script crosses the network once per server; on NOSCRIPT it is sent with
 * EVAL, which also caches it for the next calls.
 */
function scriptRunner(client: unknown): ScriptRunner {
  const c = client as Partial<NodeRedisEvalClient & RedisEvalClient> | null;
  if (typeof c !== 'object' || c === null || typeof c.eval !== 'function') {
    throw new TypeError('client must be an ioredis or node-redis client, or an object with an eval method');
  }
  if (typeof c.evalSha === 'function') {
    const nodeRedis = c as NodeRedisEvalClient;
    return async (s, key, args) => {
      const options = { keys: [key], arguments: args };
      try {
        return await nodeRedis.evalSha(s.sha1, options);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return nodeRedis.eval(s.source, options);
      }
    };
  }
  const ioredis = c as RedisEvalClient;
  if (typeof ioredis.evalsha !== 'function') return (s, key, args) => ioredis.eval(s.source, 1, key, ...args);
  return async (s, key, args) => {
    try {
      return await ioredis.evalsha!(s.sha1, 1, key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return ioredis.eval(s.source, 1, key, ...args);
    }
  };
}

/**
 * An {@link IdempotencyStore} in Redis: claims are one atomic Lua script (GET, then SET with a
 * PX lease only when free), the holder renews its lease while the handler runs, completion and
 * release only act for the caller's token, and every key expires (lease 60 s, done 7 days by
 * default). Scripts run by SHA-1 (EVALSHA), sent in full only when the server does not have them.
 *
 * Redis keeps these keys in memory: a server without persistence forgets every done id and
 * every claim when it restarts, so retries after a restart run their handlers again (and a
 * retry may run alongside a handler still running, until that handler's next renewal finds its
 * claim taken). Use AOF (`appendonly yes`, `appendfsync everysec`: at most about a second
 * lost) or a replica for the full 7 days, and a `maxmemory-policy` of `noeviction` or a
 * `volatile-*` policy with room to spare, since an evicted key is a forgotten id.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisIdempotencyStore } from 'kompliant-webhooks/redis';
 *
 * const idempotency = redisIdempotencyStore({ client: new Redis(process.env.REDIS_URL!) });
 * app.post('/webhooks/kompliant', kompliantWebhook({ keyStore, idempotency, onEvent }));
 * ```
 * @example
 * ```ts
 * import { createClient } from 'redis';
 *
 * const idempotency = redisIdempotencyStore({ client: await createClient({ url: process.env.REDIS_URL }).connect() });
 * ```
 */
export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('redisIdempotencyStore options must be an object');
  const run = scriptRunner(options.client);
  const prefix = options.prefix ?? DEFAULT_REDIS_KEY_PREFIX;
  if (typeof prefix !== 'string' || prefix.length > 64) throw new TypeError('prefix must be a string of at most 64 characters');
  for (const name of Object.keys(options)) {
    if (name !== 'client' && name !== 'prefix') throw new TypeError(`redisIdempotencyStore: unknown option ${JSON.stringify(name)}`);
  }

  const key = (id: string): string =>
    prefix + (SAFE_ID.test(id) ? id : `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`);

  return {
    async claim(id, token, leaseMs): Promise<ClaimResult> {
      const result = await run(SCRIPTS.claim, key(id), [token, String(leaseMs)]);
      if (result === 'claimed' || result === 'in_progress' || result === 'done') return result;
      throw new Error('Unexpected reply from Redis');
    },
    async renew(id, token, leaseMs) {
      const result = await run(SCRIPTS.renew, key(id), [token, String(leaseMs)]);
      return Number(result) === 1;
    },
    async complete(id, token, ttlMs) {
      await run(SCRIPTS.complete, key(id), [token, String(ttlMs)]);
    },
    async release(id, token) {
      await run(SCRIPTS.release, key(id), [token]);
    },
  };
}
