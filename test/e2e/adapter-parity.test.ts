import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import {
  expressDriver,
  fastifyDriver,
  fastifyPassDriver,
  fetchDriver,
  honoDriver,
  lambdaDriver,
  restApiWithClientCasing,
} from '../support/adapter-drivers.js';
import type { AdapterDriver, TableRequest } from '../support/adapter-table.js';
import { functionUrlEvent, httpApiEvent } from '../support/lambda-events.js';
import { loadEnvelopeVectors } from '../support/vectors.js';

// Requests whose expected answer depends on the shared handler's policy (content codings),
// not on the adapter: every adapter must answer exactly what the Express middleware answers.
const vectors = loadEnvelopeVectors();
const valid = vectors.cases.find((c) => c.expect.status === 200)!.body;
const gzipped = gzipSync(valid);
const corrupt = Buffer.from(gzipped.subarray(0, gzipped.length - 8));
corrupt[20] = (corrupt[20] ?? 0) ^ 0xff;

const PARITY_REQUESTS: ReadonlyArray<[string, TableRequest]> = [
  ['gzip body', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipped }],
  ['deflate body', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: deflateSync(valid) }],
  ['corrupt gzip body', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: corrupt }],
  ['gzip bomb (8 MB of spaces)', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(8_000_000, 32)) }],
  ['brotli body', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: gzipped }],
];

const OTHERS: AdapterDriver[] = [
  fetchDriver,
  honoDriver,
  fastifyDriver,
  fastifyPassDriver,
  lambdaDriver('Lambda: API Gateway REST (v1)', restApiWithClientCasing),
  lambdaDriver('Lambda: HTTP API (v2)', httpApiEvent),
  lambdaDriver('Lambda: Function URL', functionUrlEvent),
];

async function answer(driver: AdapterDriver, request: TableRequest) {
  const send = await driver.create({ keyStore: memoryKeyStore(vectors.keys), maxBodyBytes: 64 * 1024, onEvent() {}, onError() {} });
  const res = await send(request);
  return { status: res.status, code: (res.body as { error?: { code?: string } }).error?.code };
}

describe.each(PARITY_REQUESTS)('%s: every adapter answers like the Express middleware', (_name, request) => {
  it.each(OTHERS.map((driver) => [driver.name, driver] as const))('%s', async (_driverName, driver) => {
    const expected = await answer(expressDriver, request);
    expect(await answer(driver, request)).toEqual(expected);
  });
});
