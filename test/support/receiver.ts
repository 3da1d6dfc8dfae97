import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { kompliantWebhook, type DataLayoutName, type KeyStore, type KompliantEvent } from '../../src/index.js';

export interface TestReceiver {
  url: string;
  /** Secrets by key id: what the application's key store holds. */
  secrets: Map<string, string>;
  keyStore: KeyStore;
  /** Every body POSTed, as parsed JSON, in arrival order. */
  bodies: Array<Record<string, unknown>>;
  /** Every event the handler accepted. */
  events: KompliantEvent[];
  /** Answer this many deliveries with a handler failure (500) before accepting. */
  failNext: number;
  /** Never answer (to exercise the sender's timeout). */
  hang: boolean;
  close(): Promise<void>;
}

/** A real Express app with the library's middleware, as a user would deploy it. */
export async function startTestReceiver(options: { layout?: DataLayoutName } = {}): Promise<TestReceiver> {
  const secrets = new Map<string, string>();
  const keyStore: KeyStore = { getSecret: (keyId) => Promise.resolve(secrets.get(keyId)) };
  const receiver = { secrets, keyStore, bodies: [], events: [], failNext: 0, hang: false } as unknown as TestReceiver;
  const app = express();
  app.post(
    '/webhooks/kompliant',
    express.json(),
    (req, _res, next) => {
      receiver.bodies.push(req.body as Record<string, unknown>);
      if (!receiver.hang) next();
    },
    kompliantWebhook({
      keyStore,
      ...options,
      onEvent(event) {
        if (receiver.failNext > 0) {
          receiver.failNext--;
          throw new Error('deliberate handler failure');
        }
        receiver.events.push(event);
      },
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/kompliant`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
