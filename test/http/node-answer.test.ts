import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RECEIVED_ANSWER, type HttpAnswer } from '../../src/http/answer.js';
import { writeNodeAnswer } from '../../src/http/node-answer.js';

/** Serves one answer written by `write`, and returns what a client received: status, headers and body bytes. */
async function served(write: (res: ServerResponse) => void): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const server = createServer((_req, res) => write(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  } finally {
    server.close();
  }
}

describe('writeNodeAnswer', () => {
  it('writes a frozen answer the same way every time: status, JSON content headers and a Content-Length of the bytes sent', async () => {
    for (let i = 0; i < 2; i++) {
      const got = await served((res) => writeNodeAnswer(res, RECEIVED_ANSWER));
      expect(got.status).toBe(200);
      expect(got.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(got.headers['cache-control']).toBe('no-store');
      expect(Number(got.headers['content-length'])).toBe(got.body.length);
      expect(JSON.parse(got.body.toString('utf8'))).toEqual({ received: true });
    }
  });

  it('counts the UTF-8 bytes of a body with non-ASCII text, and keeps headers set earlier by other middleware', async () => {
    const answer: HttpAnswer = { status: 400, headers: { 'x-answer': 'yes' }, body: { error: { code: 'X', message: 'Łódź → 東京' } } };
    const got = await served((res) => {
      res.setHeader('x-earlier', 'kept');
      writeNodeAnswer(res, answer);
    });
    expect(got.status).toBe(400);
    expect(got.headers['x-earlier']).toBe('kept');
    expect(got.headers['x-answer']).toBe('yes');
    expect(Number(got.headers['content-length'])).toBe(got.body.length);
    expect(JSON.parse(got.body.toString('utf8'))).toEqual(answer.body);
  });

  it('only ends a response whose headers already went out', async () => {
    const got = await served((res) => {
      res.writeHead(202, { 'content-type': 'text/plain' });
      res.write('started');
      writeNodeAnswer(res, RECEIVED_ANSWER);
    });
    expect(got.status).toBe(202);
    expect(got.body.toString()).toBe('started');
  });
});
