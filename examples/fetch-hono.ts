/**
 * Fetch API adapter in a Hono app (the same handler works as a Next.js app-router `POST`
 * export, in Bun.serve or Deno.serve). Run: `npx tsx examples/fetch-hono.ts`
 * (with `hono` installed; in this repository, after `npm run build`).
 */
import { Hono } from 'hono';
import { pathToFileURL } from 'node:url';
import { memoryKeyStore, type KeyStore, type KompliantEvent } from 'kompliant-webhooks';
import { createFetchHandler } from 'kompliant-webhooks/fetch';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';

/** Builds the app: one route, the handler created once at startup. */
export function createApp(keyStore: KeyStore, handled: KompliantEvent[]): Hono {
  const webhook = createFetchHandler({
    keyStore,
    // Behind a proxy you trust; Request itself carries no client address.
    getClientIp: (request) => request.headers.get('x-forwarded-for')?.split(',')[0]?.trim(),
    async onEvent(event) {
      handled.push(event); // your work here; a throw answers 500 and Kompliant retries
    },
  });
  const app = new Hono();
  app.post('/webhooks/kompliant', (c) => webhook(c.req.raw));
  return app;
}

/** Sends one encrypted test webhook and one tampered one through the app. */
export async function demo(log: (line: string) => void = console.log): Promise<{ statuses: number[]; handled: number }> {
  const secret = generateSharedSecret();
  const handled: KompliantEvent[] = [];
  const app = createApp(memoryKeyStore({ whk_20251121_01: secret }), handled);
  const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
  const statuses: number[] = [];
  for (const body of [envelope, { ...envelope, event_type: 'DOCUMENT_UPLOADED' }]) {
    const res = await app.request('/webhooks/kompliant', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    statuses.push(res.status);
    log(`${res.status} ${await res.text()}`);
  }
  return { statuses, handled: handled.length };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await demo();
