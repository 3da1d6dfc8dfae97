/**
 * Queue consumer: raw envelopes forwarded to SQS/Kafka/... are verified with the same pipeline
 * as HTTP, `createWebhookReceiver().receive(body)`. The HTTP status becomes ack / retry /
 * dead-letter. Run: `npx tsx examples/queue-consumer.ts`
 * (in this repository, after `npm run build`).
 */
import { pathToFileURL } from 'node:url';
import {
  createWebhookReceiver,
  isWebhookError,
  memoryKeyStore,
  type KeyStore,
  type KompliantEvent,
  type WebhookErrorCode,
} from 'kompliant-webhooks';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';

/** What to do with a message. */
export type Disposition = 'ack' | 'retry' | 'dead-letter';

/**
 * Codes that fail the same way however often the same bytes are retried. Send them to a
 * dead-letter queue (never drop them silently: DECRYPTION_FAILED can also mean a wrong secret
 * was stored, and the message can be redriven once that is fixed).
 */
const PERMANENT: ReadonlySet<WebhookErrorCode> = new Set([
  'INVALID_JSON',
  'INVALID_ENVELOPE',
  'PAYLOAD_TOO_LARGE',
  'DECRYPTION_FAILED',
  'INVALID_PAYLOAD',
]);

/**
 * Retry (nack, let the queue redeliver with backoff) everything else: KEY_STORE_UNAVAILABLE
 * (transient), UNKNOWN_KEY (a rotated key not yet in the store), INVALID_KEY (a bad stored
 * secret, fixed by ops), your own handler's failures. Bound retries with the queue's
 * maxReceiveCount so a key that never appears ends in the dead-letter queue too.
 */
export function dispositionOf(error: unknown): Exclude<Disposition, 'ack'> {
  return isWebhookError(error) && PERMANENT.has(error.code) ? 'dead-letter' : 'retry';
}

/** Builds a consumer: verify, decrypt, handle, and say what to do with the message. */
export function createConsumer(keyStore: KeyStore, handle: (event: KompliantEvent) => Promise<void>) {
  const receiver = createWebhookReceiver({ keyStore }); // once, at startup: the key cache lives here
  return async function consume(body: string): Promise<Disposition> {
    try {
      await handle(await receiver.receive(body));
      return 'ack';
    } catch (error) {
      return dispositionOf(error);
    }
  };
}

/** Consumes three messages: valid, tampered, and one whose key store is down. */
export async function demo(log: (line: string) => void = console.log): Promise<Disposition[]> {
  const secret = generateSharedSecret();
  const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
  const handled: string[] = [];
  const consume = createConsumer(memoryKeyStore({ whk_20251121_01: secret }), async (event) => {
    handled.push(event.id);
  });
  const down: KeyStore = { getSecret: () => Promise.reject(new Error('connection refused')) };
  const consumeWhileDown = createConsumer(down, async () => {});
  const results: Disposition[] = [
    await consume(JSON.stringify(envelope)),
    await consume(JSON.stringify({ ...envelope, account_id: 'lv_someone_else' })),
    await consumeWhileDown(JSON.stringify(envelope)),
  ];
  log(`dispositions: ${results.join(', ')}; handled ${handled.length}`);
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await demo();
