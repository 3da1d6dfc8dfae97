import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIdempotencyStore, type IdempotencyStore } from '../../src/index.js';
import { redisIdempotencyStore } from '../../src/redis.js';
import { redisSkipReason, startRedisServer, type RedisServer } from '../support/redis-server.js';

/**
 * The IdempotencyStore contract as a model test: two holders (deliveries) of one id follow the
 * protocol (claim with a fresh token; renew, complete or release only while they believe they
 * hold it) in any interleaving, and leases lapse at any moment. The store must answer exactly as
 * the plain model does, at most one holder may hold the id at a time, and a done id stays done.
 */
type Op = { op: 'claim' | 'renew' | 'complete' | 'release'; holder: 0 | 1 } | { op: 'expire' };

const holder = fc.constantFrom<0 | 1>(0, 1);
const ops = fc.array(
  fc.oneof(
    fc.record({ op: fc.constantFrom('claim' as const, 'renew' as const, 'complete' as const, 'release' as const), holder }),
    fc.constant({ op: 'expire' as const }),
  ),
  { minLength: 1, maxLength: 40 },
) as fc.Arbitrary<Op[]>;

type State = { kind: 'free' } | { kind: 'held'; token: string } | { kind: 'done' };

interface Subject {
  store: IdempotencyStore;
  /** Makes every lease lapse now (a claim nobody renews). */
  expire(id: string): Promise<void>;
  /** Whether a lapsed lease frees the id: false for the in-process store, whose holders are alive by definition. */
  leasesLapse: boolean;
}

const LEASE_MS = 60_000;
const TTL_MS = 7 * 24 * 3_600_000; // longer than any run of expires (2 leases each) can reach
let run = 0;

async function checkInterleaving(subject: Subject, steps: Op[]): Promise<void> {
  const id = `evt_model_${++run}`;
  const { store, leasesLapse } = subject;
  let state: State = { kind: 'free' };
  const tokens: (string | undefined)[] = [undefined, undefined];
  const believes = [false, false];
  let seq = 0;
  let sawDone = false;
  for (const step of steps) {
    if (step.op === 'expire') {
      await subject.expire(id);
      if (leasesLapse && state.kind === 'held') state = { kind: 'free' };
      continue;
    }
    const h = step.holder;
    const other = 1 - h;
    if (step.op === 'claim') {
      if (believes[h]) continue; // a delivery claims once
      const token = `t${h}_${++seq}`;
      tokens[h] = token;
      const answer = await store.claim(id, token, LEASE_MS);
      const expected = state.kind === 'free' ? 'claimed' : state.kind === 'held' ? 'in_progress' : 'done';
      expect(answer).toBe(expected);
      if (sawDone) expect(answer).toBe('done');
      if (answer === 'done') sawDone = true;
      if (answer === 'claimed') {
        state = { kind: 'held', token };
        believes[h] = true;
        // At most one holder: the other one's claim, if it still thinks it holds one, has lapsed.
        if (believes[other]) expect(leasesLapse).toBe(true);
      }
      continue;
    }
    const token = tokens[h];
    if (!believes[h] || token === undefined) continue;
    if (step.op === 'renew') {
      if (store.renew === undefined) continue;
      const held = await store.renew(id, token, LEASE_MS);
      const expected = (state.kind === 'held' && state.token === token) || state.kind === 'free';
      expect(held).toBe(expected);
      if (sawDone) expect(held).toBe(false);
      if (held) state = { kind: 'held', token };
      else believes[h] = false;
    } else if (step.op === 'complete') {
      await store.complete(id, token, TTL_MS);
      if ((state.kind === 'held' && state.token === token) || (state.kind === 'free' && leasesLapse)) state = { kind: 'done' };
      believes[h] = false;
    } else {
      await store.release(id, token);
      if (state.kind === 'held' && state.token === token) state = { kind: 'free' };
      believes[h] = false;
    }
  }
  // The final word: what a fresh claim sees.
  const last = await store.claim(id, 'probe', LEASE_MS);
  expect(last).toBe(state.kind === 'free' ? 'claimed' : state.kind === 'held' ? 'in_progress' : 'done');
  if (sawDone) expect(last).toBe('done');
}

describe('IdempotencyStore model: two holders, any interleaving of claim / renew / complete / release / expire', () => {
  it('memoryIdempotencyStore (claims never lapse in-process)', async () => {
    let now = 0;
    const subject: Subject = {
      store: memoryIdempotencyStore({ now: () => now }),
      expire: () => {
        now += LEASE_MS * 2; // well past any lease, well within the done ttl
        return Promise.resolve();
      },
      leasesLapse: false,
    };
    await fc.assert(fc.asyncProperty(ops, (steps) => checkInterleaving(subject, steps)), { numRuns: 300 });
  });

  const skip = redisSkipReason();
  describe.skipIf(skip !== undefined)('redisIdempotencyStore against a real redis-server', () => {
    let redis: RedisServer;
    let ioredis: Redis;
    let nodeRedis: ReturnType<typeof createClient>;
    beforeAll(async () => {
      redis = await startRedisServer();
      ioredis = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
      await ioredis.connect();
      nodeRedis = createClient({ socket: { host: '127.0.0.1', port: redis.port } });
      await nodeRedis.connect();
    });
    afterAll(async () => {
      await ioredis?.quit();
      await nodeRedis?.quit();
      await redis?.stop();
    });

    /** A lapsed lease is a `p:` key gone; a done key (`d:`) is never touched. */
    const expireLease = (prefix: string) => async (id: string) => {
      const value = await ioredis.get(prefix + id);
      if (value?.startsWith('p:')) await ioredis.del(prefix + id);
    };

    it('with ioredis', async () => {
      const prefix = 'model-io:';
      const subject: Subject = { store: redisIdempotencyStore({ client: ioredis, prefix }), expire: expireLease(prefix), leasesLapse: true };
      await fc.assert(fc.asyncProperty(ops, (steps) => checkInterleaving(subject, steps)), { numRuns: 200 });
    }, 60_000);

    it('with node-redis v5', async () => {
      const prefix = 'model-node:';
      const subject: Subject = { store: redisIdempotencyStore({ client: nodeRedis, prefix }), expire: expireLease(prefix), leasesLapse: true };
      await fc.assert(fc.asyncProperty(ops, (steps) => checkInterleaving(subject, steps)), { numRuns: 200 });
    }, 60_000);
  });
});
