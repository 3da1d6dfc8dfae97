// A finished body read lets go of its request at once: nothing (the shared deadline list) holds
// the request and its body until readTimeoutMs has passed.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { kompliantWebhook, memoryKeyStore } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: PATH, agent: false, headers: { 'content-type': 'application/json', connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('node:http: the requests of answered deliveries can be collected long before readTimeoutMs', async () => {
  const handler = kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), readTimeoutMs: 600_000, onEvent() {}, logger: false });
  const requests: WeakRef<IncomingMessage>[] = [];
  server = createServer((req, res) => {
    requests.push(new WeakRef(req));
    handler(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const deliver = async (): Promise<void> => void expect(await post(port, JSON.stringify(createTestWebhook({ secret: SECRET, keyId: KEY_ID })))).toBe(200);
  for (let i = 0; i < 3; i += 1) await deliver();
  server.closeAllConnections();
  // deref() keeps its target alive until the current job ends: collect in a job that has not read them.
  const collected = async (): Promise<boolean> => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    return requests.every((ref) => ref.deref() === undefined);
  };
  for (let attempt = 0; attempt < 10 && !(await collected()); attempt += 1);
  expect(requests.map((ref) => ref.deref() === undefined)).toEqual([true, true, true]);
});
