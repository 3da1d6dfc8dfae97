import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type KompliantWebhookOptions } from '../../src/index.js';
import { KEY_ID, SECRET } from '../support/app.js';

const BODY_BYTES = 50 * 1024 * 1024;
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server around `listener` that reports how many bytes each connection read from the client. */
async function listen(listener: Parameters<typeof createServer>[1]) {
  const server = createServer(listener);
  servers.push(server);
  const read: Promise<number>[] = [];
  server.on('connection', (socket: Socket) => {
    read.push(once(socket, 'close').then(() => socket.bytesRead));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, serverRead: () => Promise.all(read).then((all) => all.reduce((a, b) => a + b, 0)) };
}

/**
 * Sends a request head announcing a 50 MiB body, then the body as fast as the server takes it,
 * until the server closes the connection or it is all sent. Returns the answer's head.
 */
async function sendLargeBody(port: number, method: string, contentType: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  const state = { closed: false };
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => {}); // EPIPE / ECONNRESET once the server stops reading
  socket.on('close', () => (state.closed = true));
  socket.write(`${method} /webhooks/kompliant HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${contentType}\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < BODY_BYTES && !state.closed && !socket.destroyed; sent += chunk.length) {
    if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]).catch(() => {});
  }
  if (!state.closed) {
    socket.end();
    await once(socket, 'close').catch(() => {});
  }
  return answer.split('\r\n\r\n')[0] ?? '';
}

const cases: Array<[string, string, string, Partial<KompliantWebhookOptions>]> = [
  ['405 METHOD_NOT_ALLOWED', 'PUT', 'application/json', {}],
  ['415 UNSUPPORTED_MEDIA_TYPE', 'POST', 'text/plain', {}],
  ['403 FORBIDDEN_IP', 'POST', 'application/json', { allowedIps: ['192.0.2.0/24'] }],
];

describe('an answer given before the body is read closes the connection and stops reading the body', () => {
  it.each(cases)('node:http, %s', async (status, method, contentType, options) => {
    const middleware = kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent() {}, ...options });
    const { port, serverRead } = await listen((req, res) => void middleware(req, res));
    const head = await sendLargeBody(port, method, contentType);
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status.slice(0, 3)} `));
    expect(head.toLowerCase()).toContain('connection: close');
    // Socket buffers may hold a few MiB; reading the whole 50 MiB is what must not happen.
    expect(await serverRead()).toBeLessThan(BODY_BYTES / 4);
  });

  it.each(cases)('Express, %s', async (status, method, contentType, options) => {
    const app = express();
    app.all('/webhooks/kompliant', kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent() {}, ...options }));
    const { port, serverRead } = await listen(app);
    const head = await sendLargeBody(port, method, contentType);
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status.slice(0, 3)} `));
    expect(head.toLowerCase()).toContain('connection: close');
    expect(await serverRead()).toBeLessThan(BODY_BYTES / 4);
  });
});
