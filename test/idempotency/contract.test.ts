// Runs the IdempotencyStore contract against the memory store and the Redis store (a real redis-server).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import { memoryIdempotencyStore } from '../../src/index.js';
import { redisIdempotencyStore } from '../../src/redis.js';
import { redisSkipReason, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { describeStoreContract } from './contract.js';

describeStoreContract('memory', { create: () => memoryIdempotencyStore(), claimsHeldWhileAlive: true });

const skip = redisSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/idempotency/contract.test.ts (Redis) ${skip}\n`);
// Registered even without redis-server, so the run reports these tests as skipped instead of leaving them out.
describe.skipIf(skip !== undefined)('against a real redis-server', () => {
  let redis: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedisServer();
    // Fails fast once the server is gone (the fault case), instead of queueing commands.
    client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });
  describeStoreContract('redis (ioredis)', {
    create: () => redisIdempotencyStore({ client, prefix: 'contract:' }),
    stopServer: () => redis.stop(),
  });
});
