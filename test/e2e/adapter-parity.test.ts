import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
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

// Every shared vector, and bodies with a top-level `__proto__` key: the Fastify plugin parses the
// body in its own scope, so it answers exactly what the Express middleware answers (spec section 1:
// an unknown field is ignored), with no prototype pollution and no 400 from onProtoPoisoning.
const jsonRequest = (body: string): TableRequest => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
const protoSecret = generateSharedSecret();
const protoEnvelope = createTestWebhook({ secret: protoSecret, keyId: 'whk_20251121_01' });
const withProto = (text: string, proto: string) => `{"__proto__":${proto},${text.slice(1)}`;
const PROTO_REQUESTS: ReadonlyArray<[string, TableRequest]> = [
  ['a valid webhook with an extra top-level __proto__ object', jsonRequest(withProto(JSON.stringify(protoEnvelope), '{"polluted":"yes"}'))],
  ['a valid webhook with a top-level __proto__ string', jsonRequest(withProto(JSON.stringify(protoEnvelope), '"x"'))],
  ['a valid webhook with __proto__ as its last key', jsonRequest(`${JSON.stringify(protoEnvelope).slice(0, -1)},"__proto__":{"polluted":"yes"}}`)],
  ['a body that is only {"__proto__":{...}}', jsonRequest('{"__proto__":{"polluted":"yes"}}')],
  ['an envelope whose key_id is set through __proto__', jsonRequest(JSON.stringify({ ...protoEnvelope, key_id: undefined }).replace('{', '{"__proto__":{"key_id":"whk_20251121_01"},'))],
  ['constructor.prototype at the top level', jsonRequest(withProto(JSON.stringify(protoEnvelope), '{}').replace('"__proto__":{}', '"constructor":{"prototype":{"polluted":"yes"}}'))],
];
const FASTIFY: AdapterDriver[] = [fastifyDriver, fastifyPassDriver];

async function answerWith(driver: AdapterDriver, keys: Record<string, string>, request: TableRequest) {
  const send = await driver.create({ keyStore: memoryKeyStore(keys), maxBodyBytes: 64 * 1024, onEvent() {}, onError() {} });
  const res = await send(request);
  return { status: res.status, code: (res.body as { error?: { code?: string } }).error?.code };
}

describe.each(FASTIFY.map((driver) => [driver.name, driver] as const))('%s answers every shared vector like the Express middleware', (_name, driver) => {
  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s', async (_caseName, vector) => {
    const request = jsonRequest(vector.body);
    const expected = await answerWith(expressDriver, vectors.keys, request);
    expect(expected.status).toBe(vector.expect.status);
    expect(await answerWith(driver, vectors.keys, request)).toEqual(expected);
  });

  it.each(PROTO_REQUESTS)('%s', async (_caseName, request) => {
    const keys = { whk_20251121_01: protoSecret };
    const expected = await answerWith(expressDriver, keys, request);
    expect(await answerWith(driver, keys, request)).toEqual(expected);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('key_id');
  });
});
