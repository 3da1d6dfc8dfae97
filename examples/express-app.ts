/**
 * A minimal Express receiver for Kompliant webhooks.
 *
 *   KOMPLIANT_WEBHOOK_KEY_ID=whk_20251121_01 KOMPLIANT_WEBHOOK_SECRET=<base64> npx tsx examples/express-app.ts
 *
 * then point Kompliant (or `npm start`'s sender) at http://localhost:3000/webhooks/kompliant.
 */
import { pathToFileURL } from 'node:url';
import express from 'express';
import { kompliantWebhook, memoryKeyStore, type KeyStore, type KompliantEvent } from 'kompliant-webhooks';

/** What the app does with events: here, remember them; in real life, enqueue a job. */
export interface EventSink {
  handle(event: KompliantEvent): Promise<void> | void;
}

export function createApp(keyStore: KeyStore, sink: EventSink) {
  const app = express();
  app.post(
    '/webhooks/kompliant',
    kompliantWebhook({
      keyStore,
      // Answer 200 only once the event is durably handled: any throw becomes a 500 and a retry.
      onEvent: (event) => sink.handle(event),
      onError: (error) => console.warn(`kompliant webhook rejected: ${error.code} (${error.status})`),
    }),
  );
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  return app;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const keyId = process.env.KOMPLIANT_WEBHOOK_KEY_ID;
  const secret = process.env.KOMPLIANT_WEBHOOK_SECRET;
  if (keyId === undefined || secret === undefined) {
    console.error('Set KOMPLIANT_WEBHOOK_KEY_ID and KOMPLIANT_WEBHOOK_SECRET (base64, as webhook.key.create returned it).');
    process.exit(2);
  }
  const app = createApp(memoryKeyStore({ [keyId]: secret }), {
    handle: (event) => console.log(`${event.event_type} ${event.id} for ${event.data.subject_record_id}`),
  });
  const port = Number(process.env.PORT ?? 3000);
  app.listen(port, () => console.log(`listening on http://localhost:${port}/webhooks/kompliant`));
}
