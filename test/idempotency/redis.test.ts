import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { redisIdempotencyStore } from '../../src/redis.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';
import { redisSkipReason, startRedisServer, type RedisServer } from '../support/redis-server.js';

describe('the kompliant-webhooks/redis subpath (built package)', () => {
  it('loads without ioredis: the client is passed in, never imported', () => {
    const code = `
      const before = new Set(Object.keys(require.cache));
      const { redisIdempotencyStore } = require('kompliant-webhooks/redis');
      const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f.includes('node_modules'));
      console.log(JSON.stringify({ loaded, type: typeof redisIdempotencyStore }));`;
    const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', code], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ loaded: [], type: 'function' });
  });
});

const skip = redisSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/idempotency/redis.test.ts ${skip}\n`);

describe.skipIf(skip !== undefined)('redisIdempotencyStore against a real redis-server', () => {
  let redis: RedisServer;
  let client: Redis;
  let nodeRedis: ReturnType<typeof createClient>;
  beforeAll(async () => {
    redis = await startRedisServer();
    client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    nodeRedis = createClient({ socket: { host: '127.0.0.1', port: redis.port } });
    await nodeRedis.connect();
  });
  afterAll(async () => {
    await client?.quit();
    await nodeRedis?.quit();
    await redis?.stop();
  });

  /** The store over each supported client; `client` (ioredis) inspects the keys either way. */
  const clients = [
    ['ioredis', () => client],
    ['node-redis v5', () => nodeRedis],
  ] as const;

  describe.each(clients)('with %s', (name, storeClient) => {
    const ns = (label: string) => `test-${name.replace(/\W/g, '')}-${label}:`;

    it('claims, reports in_progress, completes to done, with TTLs on every key', async () => {
      const prefix = ns('basic');
      const store = redisIdempotencyStore({ client: storeClient(), prefix });
      expect(await store.claim('wh_a', 't1', 60_000)).toBe('claimed');
      expect(await store.claim('wh_a', 't2', 60_000)).toBe('in_progress');
      const lease = await client.pttl(`${prefix}wh_a`);
      expect(lease).toBeGreaterThan(0);
      expect(lease).toBeLessThanOrEqual(60_000);
      await store.complete('wh_a', 't2', 5_000); // not the holder: ignored
      expect(await store.claim('wh_a', 't3', 60_000)).toBe('in_progress');
      await store.complete('wh_a', 't1', 7 * 24 * 3600 * 1000);
      expect(await store.claim('wh_a', 't3', 60_000)).toBe('done');
      expect(await client.pttl(`${prefix}wh_a`)).toBeGreaterThan(60_000);
    });

    it('release frees the id only for the holder', async () => {
      const store = redisIdempotencyStore({ client: storeClient(), prefix: ns('release') });
      expect(await store.claim('wh_b', 't1', 60_000)).toBe('claimed');
      await store.release('wh_b', 'someone-else');
      expect(await store.claim('wh_b', 't2', 60_000)).toBe('in_progress');
      await store.release('wh_b', 't1');
      expect(await store.claim('wh_b', 't2', 60_000)).toBe('claimed');
    });

    it('an expired lease can be claimed again', async () => {
      const store = redisIdempotencyStore({ client: storeClient(), prefix: ns('lease') });
      expect(await store.claim('wh_c', 't1', 30)).toBe('claimed');
      await vi.waitFor(async () => expect(await store.claim('wh_c', 't2', 60_000)).toBe('claimed'), { timeout: 2000, interval: 20 });
    });

    it('renew extends the holder\'s lease, re-takes a lapsed one nobody claimed, and is false once another token holds it', async () => {
      const prefix = ns('renew');
      const store = redisIdempotencyStore({ client: storeClient(), prefix });
      expect(await store.claim('wh_r', 't1', 1_000)).toBe('claimed');
      expect(await store.renew!('wh_r', 't1', 60_000)).toBe(true);
      expect(await client.pttl(`${prefix}wh_r`)).toBeGreaterThan(1_000);
      expect(await store.renew!('wh_r', 't2', 60_000)).toBe(false);
      await client.del(`${prefix}wh_r`); // the lease lapsed
      expect(await store.renew!('wh_r', 't1', 60_000)).toBe(true);
      expect(await store.claim('wh_r', 't2', 60_000)).toBe('in_progress');
      await store.release('wh_r', 't1');
      expect(await store.claim('wh_r', 't2', 60_000)).toBe('claimed');
      expect(await store.renew!('wh_r', 't1', 60_000)).toBe(false);
      await store.complete('wh_r', 't2', 60_000);
      expect(await store.renew!('wh_r', 't2', 60_000)).toBe(false);
    });

    it('complete is recorded by its token after its lease lapsed if nobody claimed the id since, never over another holder', async () => {
      const prefix = ns('late');
      const store = redisIdempotencyStore({ client: storeClient(), prefix });
      expect(await store.claim('wh_l', 't1', 60_000)).toBe('claimed');
      await client.del(`${prefix}wh_l`); // the lease lapsed, nobody claimed since
      await store.complete('wh_l', 't1', 60_000);
      expect(await store.claim('wh_l', 't2', 60_000)).toBe('done');
      expect(await store.claim('wh_m', 't1', 60_000)).toBe('claimed');
      await client.del(`${prefix}wh_m`);
      expect(await store.claim('wh_m', 't2', 60_000)).toBe('claimed'); // another delivery took over
      await store.complete('wh_m', 't1', 60_000);
      expect(await store.claim('wh_m', 't3', 60_000)).toBe('in_progress');
    });

    it('loads each script once: EVALSHA after the first call, EVAL again only after the server lost its scripts', async () => {
      const store = redisIdempotencyStore({ client: storeClient(), prefix: ns('sha') });
      await client.script('FLUSH');
      await client.config('RESETSTAT');
      for (let i = 0; i < 10; i++) {
        await store.claim(`wh_${i}`, 't', 60_000);
        await store.complete(`wh_${i}`, 't', 60_000);
      }
      const calls = async (command: string): Promise<number> => {
        const info = await client.info('commandstats');
        return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      };
      expect(await calls('eval')).toBe(2); // claim and complete, once each
      expect(await calls('evalsha')).toBe(20);
      await client.script('FLUSH'); // as after a restart
      expect(await store.claim('wh_after_flush', 't', 60_000)).toBe('claimed');
      expect(await calls('eval')).toBe(3);
    });

    it('keys are namespaced and bounded: odd or long ids are hashed', async () => {
      const prefix = ns('keys');
      const store = redisIdempotencyStore({ client: storeClient(), prefix });
      await store.claim('x'.repeat(5000), 't', 60_000);
      await store.claim('__proto__ {}*?[', 't', 60_000);
      await store.claim('wh_plain', 't', 60_000);
      const keys = await client.keys(`${prefix}*`);
      expect(keys).toHaveLength(3);
      expect(keys).toContain(`${prefix}wh_plain`);
      for (const key of keys) expect(key.length).toBeLessThanOrEqual(prefix.length + 128);
      expect(keys.filter((k) => new RegExp(`^${prefix}sha256:[0-9a-f]{64}$`).test(k))).toHaveLength(2);
    });
  });

  it('uses the default prefix', async () => {
    const store = redisIdempotencyStore({ client });
    expect(await store.claim('wh_default', 't1', 60_000)).toBe('claimed');
    expect(await client.exists('kompliant-webhooks:idem:wh_default')).toBe(1); // the documented default prefix
  });

  it('works with any client that has only an ioredis-style eval', async () => {
    const evalOnly = { eval: (script: string, numKeys: number, ...rest: string[]) => client.eval(script, numKeys, ...rest) };
    const store = redisIdempotencyStore({ client: evalOnly, prefix: 'test-eval-only:' });
    expect(await store.claim('wh_e', 't1', 60_000)).toBe('claimed');
    expect(await store.renew!('wh_e', 't1', 60_000)).toBe(true);
    await store.complete('wh_e', 't1', 60_000);
    expect(await store.claim('wh_e', 't2', 60_000)).toBe('done');
  });

  it('checks its options', () => {
    expect(() => redisIdempotencyStore({} as never)).toThrow(/client/);
    expect(() => redisIdempotencyStore({ client, prefix: 'p'.repeat(65) })).toThrow(/prefix/);
    expect(() => redisIdempotencyStore({ client, ttl: 5 } as never)).toThrow(/unknown option/);
  });

  it('a Redis outage answers 503 IDEMPOTENCY_STORE_UNAVAILABLE and never runs the handler', async () => {
    const dead = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const onEvent = vi.fn();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: redisIdempotencyStore({ client: dead }), onEvent }));
    const res = await request(app).post(PATH).send(createTestWebhook({ secret: SECRET, keyId: KEY_ID }));
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('IDEMPOTENCY_STORE_UNAVAILABLE');
    expect(onEvent).not.toHaveBeenCalled();
    dead.disconnect();
  });

  describe('two Express apps sharing one Redis', () => {
    const servers: Server[] = [];
    const urls: string[] = [];
    let handled = 0;
    let calls = 0;
    let failNext = false;

    beforeAll(async () => {
      for (let i = 0; i < 2; i++) {
        const app = express();
        app.use(express.json());
        const idempotency = redisIdempotencyStore({ client, prefix: 'two-apps:' });
        app.post(
          PATH,
          kompliantWebhook({
            keyStore: memoryKeyStore({ [KEY_ID]: SECRET }),
            idempotency,
            async onEvent() {
              calls++;
              await new Promise((r) => setTimeout(r, 100));
              if (failNext) {
                failNext = false;
                throw new Error('downstream failed');
              }
              handled++;
            },
          }),
        );
        const server = createServer(app);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        servers.push(server);
        urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      }
    });
    afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

    it('50 concurrent deliveries of one id: the handler runs exactly once, the rest get 409 or 200 duplicate', async () => {
      calls = 0;
      handled = 0;
      const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          request(urls[i % 2]!).post(PATH).send({ ...sent, retry_count: i }),
        ),
      );
      const first = responses.filter((r) => r.status === 200 && r.body.duplicate === undefined);
      const inProgress = responses.filter((r) => r.status === 409);
      const duplicates = responses.filter((r) => r.status === 200 && r.body.duplicate === true);
      console.info(`two apps, one Redis, 50 concurrent: ${first.length} handled, ${inProgress.length} x 409, ${duplicates.length} x 200 duplicate, handler calls ${calls}`);
      expect(calls).toBe(1);
      expect(handled).toBe(1);
      expect(first).toHaveLength(1);
      expect(inProgress.length + duplicates.length).toBe(49);
      expect(inProgress.every((r) => r.body.error.code === 'DUPLICATE_IN_PROGRESS')).toBe(true);
      for (const url of urls) await request(url).post(PATH).send(sent).expect(200, { received: true, duplicate: true });
      expect(calls).toBe(1);
    });

    it('a failure on one instance releases the id; the retry on the other instance runs it', async () => {
      calls = 0;
      failNext = true;
      const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
      const failed = await request(urls[0]!).post(PATH).send(sent);
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe('HANDLER_FAILED');
      await request(urls[1]!).post(PATH).send({ ...sent, retry_count: 1 }).expect(200, { received: true });
      await request(urls[0]!).post(PATH).send({ ...sent, retry_count: 2 }).expect(200, { received: true, duplicate: true });
      expect(calls).toBe(2);
    });
  });
});
