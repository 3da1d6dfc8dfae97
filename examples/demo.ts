/**
 * `npm start`: a self-contained demo on embedded defaults. It starts an Express receiver with
 * an in-memory key store, then plays Kompliant: encrypts a few events exactly as the spec says
 * and POSTs them over HTTP, one of them tampered with, and prints what the receiver decrypted
 * and what it rejected. Exits 0 by itself.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { kompliantWebhook, memoryKeyStore } from 'kompliant-webhooks';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';

const keyId = 'whk_20251121_01';
const secret = generateSharedSecret(); // what webhook.key.create would have returned

const app = express();
app.post(
  '/webhooks/kompliant',
  kompliantWebhook({
    keyStore: memoryKeyStore({ [keyId]: secret }),
    onEvent(event) {
      console.log(`  receiver: decrypted ${event.event_type} ${event.id} -> subject ${event.data.subject_record_id}`);
    },
    onError(error) {
      console.log(`  receiver: rejected with ${error.code} (${error.status})`);
    },
  }),
);

const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/kompliant`;
console.log(`Receiver listening on ${url}\n`);

async function post(label: string, body: unknown): Promise<number> {
  console.log(`sender: ${label}`);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  console.log(`  sender: HTTP ${res.status} ${await res.text()}\n`);
  return res.status;
}

const completed = createTestWebhook({ secret, keyId, eventType: 'WORKFLOW_COMPLETED' });
const uploaded = createTestWebhook({ secret, keyId, eventType: 'DOCUMENT_UPLOADED' });
const statuses = [
  await post('WORKFLOW_COMPLETED', completed),
  await post('DOCUMENT_UPLOADED', uploaded),
  await post('a retry of the first event (new retry_count, same ciphertext)', { ...completed, retry_count: 1 }),
  await post('the same event with event_type changed in transit (AAD tampering)', { ...completed, event_type: 'WORKFLOW_CANCELLED' }),
  await post('an event encrypted with a key the receiver does not hold', createTestWebhook({ secret: generateSharedSecret(), keyId: 'whk_20251122_01' })),
];

server.close();
const expected = [200, 200, 200, 401, 401];
const ok = statuses.every((status, i) => status === expected[i]);
console.log(ok ? 'Demo finished: 3 events delivered, 2 rejected, as expected.' : `Unexpected statuses: ${statuses.join(', ')}`);
process.exitCode = ok ? 0 : 1;
