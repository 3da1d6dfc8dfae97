// A receiver in its own process for the fault tests: Express, the middleware, a Redis dedup store, and a handler held open until the parent opens the gate.
import express from 'express';
import { Redis } from 'ioredis';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { redisIdempotencyStore } from '../../src/redis.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const client = new Redis({ host: '127.0.0.1', port: Number(env('REDIS_PORT')) });
let openGate: () => void = () => undefined;
const gate = new Promise<void>((resolve) => (openGate = resolve));
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const app = express();
app.post('/gate', (_req, res) => {
  openGate();
  res.status(204).end();
});
app.post(
  '/webhooks/kompliant',
  kompliantWebhook({
    keyStore: memoryKeyStore({ [env('WEBHOOK_KEY_ID')]: env('WEBHOOK_SECRET') }),
    idempotency: redisIdempotencyStore({ client, prefix: env('REDIS_PREFIX') }),
    idempotencyLeaseMs: Number(env('LEASE_MS')),
    handlerTimeoutMs: 60_000,
    async onEvent(event) {
      say({ run: event.id, pid: process.pid });
      await gate;
      say({ done: event.id, pid: process.pid });
    },
  }),
);
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  say({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close();
  client.disconnect();
});
