/**
 * Fastify plugin over real HTTP on loopback. Run: `npx tsx examples/fastify.ts` (with `fastify`
 * installed; in this repository, after `npm run build`).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { pathToFileURL } from 'node:url';
import { memoryKeyStore, type KeyStore, type KompliantEvent } from 'kompliant-webhooks';
import { kompliantFastify, kompliantPreHandler } from 'kompliant-webhooks/fastify';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';

/** Builds the app: the plugin's own route, and a route of yours behind the preHandler. */
export async function createApp(keyStore: KeyStore, handled: KompliantEvent[]): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(kompliantFastify, {
    prefix: '/webhooks/kompliant',
    keyStore,
    async onEvent(event) {
      handled.push(event);
    },
  });
  // Pass-through: your handler answers; Fastify's JSON parser stays in place.
  // oxlint-disable-next-line no-async-endpoint-handlers -- Fastify, not Express: it awaits async handlers
  app.post('/webhooks/kompliant-v2', { preHandler: kompliantPreHandler({ keyStore }) }, async (request) => {
    handled.push(request.kompliantEvent!);
    return { received: true };
  });
  return app;
}

/** Starts the server on 127.0.0.1, posts test webhooks to both routes, stops. */
export async function demo(log: (line: string) => void = console.log): Promise<{ statuses: number[]; handled: number }> {
  const secret = generateSharedSecret();
  const handled: KompliantEvent[] = [];
  const app = await createApp(memoryKeyStore({ whk_20251121_01: secret }), handled);
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const statuses: number[] = [];
  try {
    for (const path of ['/webhooks/kompliant', '/webhooks/kompliant-v2']) {
      const res = await fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(createTestWebhook({ secret, keyId: 'whk_20251121_01' })),
      });
      statuses.push(res.status);
      log(`POST ${path}: ${res.status} ${await res.text()}`);
    }
  } finally {
    await app.close();
  }
  return { statuses, handled: handled.length };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await demo();
