import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type WebhookErrorCode } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret, sealData } from '../../src/testing.js';
import { defaultAad } from '../../src/wire/envelope.js';
import type { KompliantEnvelope } from '../../src/wire/event.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

// A table of malformed and malicious requests, each sent over real HTTP to a listening
// Express app. For every case: the exact status and code, the handler never called, no 5xx.

const OTHER_KEY_ID = 'whk_20251121_02';
const OTHER_SECRET = generateSharedSecret();
const MAX_BODY = 64 * 1024;
const READ_TIMEOUT = 200;

const valid = (): KompliantEnvelope => createTestWebhook({ secret: SECRET, keyId: KEY_ID });
const json = (value: unknown) => JSON.stringify(value);
/** A valid envelope as JSON text with `field` removed. */
const without = (field: keyof KompliantEnvelope) => {
  const e: Partial<KompliantEnvelope> = valid();
  delete e[field];
  return json(e);
};
const withField = (field: string, value: unknown) => json({ ...valid(), [field]: value });
/** Seals arbitrary plaintext bytes as a correctly authenticated envelope. */
const sealedPlaintext = (plaintext: Buffer) => {
  const e = valid();
  const data = sealData(SECRET, plaintext, defaultAad(e)).toString('base64');
  return json({ ...e, data });
};
const flipByte = (b64: string, index: number) => {
  const bytes = Buffer.from(b64, 'base64');
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  return bytes.toString('base64');
};

interface RawResult {
  status: number;
  body: { error?: { code?: string } };
}
type Sender = (url: string) => Promise<RawResult>;

interface HostileCase {
  name: string;
  status: number;
  code: WebhookErrorCode;
  /** Defaults: POST, application/json. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** A custom sender for what supertest cannot express (slow and lying bodies). */
  send?: Sender;
  /** Send to the app with an IP allow-list instead. */
  restricted?: boolean;
}

/** Writes part of a body over a raw socket and then stalls. */
const stalled = (headers: Record<string, string>, first: string): Sender => (url) =>
  new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${PATH}`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.write(first);
    setTimeout(() => req.destroy(), 5_000).unref();
  });

/** Drips bytes slowly so the whole body cannot arrive before the read deadline. */
const dripping: Sender = (url) =>
  new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        clearInterval(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    const text = json(valid());
    let at = 0;
    const timer = setInterval(() => {
      if (at < text.length) req.write(text[at++]!);
    }, 40);
  });

const lookalikeKeyIds: [string, string][] = [
  ['Cyrillic "w" and "h"', '\u0448\u04bbk_20251121_01'],
  ['fullwidth digits', 'whk_\uff12\uff10\uff12\uff15\uff11\uff11\uff12\uff11_01'],
  ['Arabic-Indic digits', 'whk_\u0662\u0660\u0662\u0665\u0661\u0661\u0662\u0661_01'],
  ['a trailing newline', 'whk_20251121_01\n'],
  ['a zero-width space', 'whk_20251121\u200b_01'],
  ['upper case prefix', 'WHK_20251121_01'],
  ['one-digit iteration', 'whk_20251121_1'],
  ['path traversal', '../../whk_20251121_01'],
  ['a NUL byte', 'whk_20251121_01\u0000'],
  ['an ARN', 'arn:aws:secretsmanager:eu-west-1:1:secret:whk_20251121_01'],
];

const cases: HostileCase[] = [
  // Methods
  ...['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'].map((method): HostileCase => ({
    name: `method ${method}`, method, body: json(valid()), status: 405, code: 'METHOD_NOT_ALLOWED',
  })),
  // Content types
  ...[
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'text/json',
    'application/jsonx',
    'application/json; charset=utf-16',
    'application/json; charset=latin1',
  ].map((type): HostileCase => ({
    name: `content type ${type}`, headers: { 'content-type': type }, body: json(valid()), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE',
  })),
  { name: 'a body without a content type', headers: { 'content-type': '' }, body: json(valid()), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  // Content codings and compression bombs
  { name: 'Content-Encoding br', headers: { 'content-encoding': 'br' }, body: json(valid()), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'stacked Content-Encoding gzip, gzip', headers: { 'content-encoding': 'gzip, gzip' }, body: gzipSync(gzipSync(json(valid()))), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'a gzip bomb (64 MiB of zeros)', headers: { 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(64 << 20)), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'a deflate bomb (64 MiB of "{")', headers: { 'content-encoding': 'deflate' }, body: deflateSync(Buffer.alloc(64 << 20, '{')), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'truncated gzip', headers: { 'content-encoding': 'gzip' }, body: gzipSync(json(valid())).subarray(0, 40), status: 400, code: 'INVALID_JSON' },
  { name: 'gzip that inflates to non-JSON', headers: { 'content-encoding': 'gzip' }, body: gzipSync('not json at all'), status: 400, code: 'INVALID_JSON' },
  // Size and time
  { name: 'a body over maxBodyBytes', body: json({ ...valid(), pad: 'x'.repeat(MAX_BODY) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'huge base64 data (over the cap)', body: withField('data', 'A'.repeat(MAX_BODY * 2)), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'a declared Content-Length over the cap', send: stalled({ 'content-type': 'application/json', 'content-length': String(10 * MAX_BODY) }, '{"id":'), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'a lying Content-Length (more than is sent)', send: stalled({ 'content-type': 'application/json', 'content-length': '5000' }, '{"id":"wh_1"'), status: 408, code: 'REQUEST_TIMEOUT' },
  { name: 'a chunked body that stops arriving', send: stalled({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, '{"key_id":'), status: 408, code: 'REQUEST_TIMEOUT' },
  { name: 'a slow (dripping) body', send: dripping, status: 408, code: 'REQUEST_TIMEOUT' },
  // Not a JSON object
  ...([
    ['an empty body', ''],
    ['null', 'null'],
    ['an array', '[]'],
    ['a string', '"hello"'],
    ['a number', '42'],
    ['true', 'true'],
    ['an unterminated object', '{'],
    ['a missing value', '{"id":}'],
    ['single quotes', "{'id':'wh_1'}"],
    ['a trailing comma', `${json(valid()).slice(0, -1)},}`],
    ['a comment', `/* hi */${json(valid())}`],
    ['NaN', '{"retry_count":NaN}'],
    ['an array nested 30 000 deep', `${'['.repeat(30_000)}${']'.repeat(30_000)}`],
  ] as const).map(([name, body]): HostileCase => ({ name: `JSON: ${name}`, body, status: 400, code: 'INVALID_JSON' })),
  { name: 'invalid UTF-8 bytes', body: Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), status: 400, code: 'INVALID_JSON' },
  { name: 'an overlong UTF-8 "/"', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), status: 400, code: 'INVALID_JSON' },
  { name: 'a UTF-16LE body', body: Buffer.from(json(valid()), 'utf16le'), status: 400, code: 'INVALID_JSON' },
  { name: 'a UTF-16LE body with BOM', body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json(valid()), 'utf16le')]), status: 400, code: 'INVALID_JSON' },
  { name: 'a UTF-8 BOM before the JSON', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json(valid()))]), status: 400, code: 'INVALID_JSON' },
  // Missing fields
  ...(['id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'key_id', 'data'] as const).map((field): HostileCase => ({
    name: `missing ${field}`, body: without(field), status: 400, code: 'INVALID_ENVELOPE',
  })),
  // Wrong types for every field
  ...(['id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'key_id', 'data'] as const).flatMap((field) =>
    ([['a number', 1], ['null', null], ['an array', ['x']], ['an object', { toString: 'x' }]] as const).map(([kind, value]): HostileCase => ({
      name: `${field} as ${kind}`, body: withField(field, value), status: 400, code: 'INVALID_ENVELOPE',
    })),
  ),
  ...([['-1', -1], ['1.5', 1.5], ['"0"', '0'], ['null', null], ['1e300', 1e300], ['true', true]] as const).map(([kind, value]): HostileCase => ({
    name: `retry_count ${kind}`, body: withField('retry_count', value), status: 400, code: 'INVALID_ENVELOPE',
  })),
  // Look-alike and malicious key ids never reach the key store
  ...lookalikeKeyIds.map(([kind, keyId]): HostileCase => ({
    name: `key_id with ${kind}`, body: withField('key_id', keyId), status: 400, code: 'INVALID_ENVELOPE',
  })),
  { name: 'key_id as an object nested 10 000 deep', body: without('key_id').replace('{', `{"key_id":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)},`), status: 400, code: 'INVALID_ENVELOPE' },
  // Field rules
  { name: 'id of 129 characters', body: withField('id', `wh_${'a'.repeat(126)}`), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'id with unicode', body: withField('id', 'wh_\u00e9t\u00e9'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'empty id', body: withField('id', ''), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'event_type with a space', body: withField('event_type', 'WORKFLOW COMPLETED'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'timestamp that is not ISO 8601', body: withField('timestamp', 'yesterday'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'timestamp on February 30', body: withField('timestamp', '2025-02-30T10:00:00Z'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'schema_version that is not a date', body: withField('schema_version', 'v2'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'data with characters outside base64', body: withField('data', '!!!!'.repeat(20)), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'data in the URL-safe alphabet', body: withField('data', `${'-_'.repeat(30)}AAAA`), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'data with embedded newlines', body: withField('data', valid().data.replace(/(.{10})/g, '$1\n')), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'data shorter than nonce + tag', body: withField('data', Buffer.alloc(27).toString('base64')), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'empty data', body: withField('data', ''), status: 400, code: 'INVALID_ENVELOPE' },
  // Prototype tricks
  { name: '__proto__ carrying key_id (must not be inherited)', body: without('key_id').replace('{', `{"__proto__":{"key_id":"${KEY_ID}"},`), status: 400, code: 'INVALID_ENVELOPE' },
  { name: '__proto__ carrying data', body: without('data').replace('{', `{"__proto__":{"data":"${valid().data}"},`), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'constructor.prototype carrying id', body: without('id').replace('{', '{"constructor":{"prototype":{"id":"wh_x"}},'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: '__proto__ as the whole body', body: '{"__proto__":{"polluted":true}}', status: 400, code: 'INVALID_ENVELOPE' },
  // Duplicate JSON keys: the last one wins, and it is checked
  { name: 'duplicate key_id, last one hostile', body: json(valid()).replace('{', '{"key_id":"x",').replace(/}$/, ',"key_id":"../../etc"}'), status: 400, code: 'INVALID_ENVELOPE' },
  { name: 'duplicate event_type, last one forged', body: json(valid()).replace(/}$/, ',"event_type":"FORGED"}'), status: 401, code: 'DECRYPTION_FAILED' },
  // Authentication
  { name: 'a well-formed key_id the store does not hold', body: withField('key_id', 'whk_19990101_01'), status: 401, code: 'UNKNOWN_KEY' },
  ...(['id', 'event_type', 'timestamp', 'account_id', 'schema_version'] as const).map((field): HostileCase => {
    const forged = { id: 'wh_forged', event_type: 'FORGED', timestamp: '2020-01-01T00:00:00Z', account_id: 'lv_forged', schema_version: '2025-10-21' }[field];
    return { name: `tampered ${field}`, body: withField(field, forged), status: 401, code: 'DECRYPTION_FAILED' };
  }),
  { name: 'key_id swapped to another valid key', body: withField('key_id', OTHER_KEY_ID), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'a flipped ciphertext bit', body: (() => { const e = valid(); return json({ ...e, data: flipByte(e.data, 12) }); })(), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'a flipped tag bit', body: (() => { const e = valid(); return json({ ...e, data: flipByte(e.data, -1) }); })(), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'a flipped nonce bit', body: (() => { const e = valid(); return json({ ...e, data: flipByte(e.data, 0) }); })(), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'a truncated tag (4 bytes cut)', body: (() => { const e = valid(); return json({ ...e, data: Buffer.from(e.data, 'base64').subarray(0, -4).toString('base64') }); })(), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'data from another event', body: json({ ...valid(), data: valid().data }), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'encrypted with a secret the receiver does not have', body: json(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID })), status: 401, code: 'DECRYPTION_FAILED' },
  { name: 'all-zero nonce, ciphertext and tag', body: withField('data', Buffer.alloc(64).toString('base64')), status: 401, code: 'DECRYPTION_FAILED' },
  // Authenticated but unusable plaintext
  { name: 'encrypted plaintext that is not JSON', body: sealedPlaintext(Buffer.from('hello')), status: 400, code: 'INVALID_PAYLOAD' },
  { name: 'encrypted JSON array', body: sealedPlaintext(Buffer.from('[1,2,3]')), status: 400, code: 'INVALID_PAYLOAD' },
  { name: 'encrypted invalid UTF-8', body: sealedPlaintext(Buffer.from([0x7b, 0xff, 0x7d])), status: 400, code: 'INVALID_PAYLOAD' },
  { name: 'encrypted empty plaintext', body: sealedPlaintext(Buffer.alloc(0)), status: 400, code: 'INVALID_PAYLOAD' },
  // Network
  { name: 'a client outside allowedIps', restricted: true, body: json(valid()), status: 403, code: 'FORBIDDEN_IP' },
  { name: 'a spoofed X-Forwarded-For outside trust proxy', restricted: true, headers: { 'x-forwarded-for': '203.0.113.10' }, body: json(valid()), status: 403, code: 'FORBIDDEN_IP' },
];

describe(`hostile input catalog (${cases.length} cases) over real HTTP`, () => {
  const onEvent = vi.fn();
  const servers: Server[] = [];
  let url = '';
  let restrictedUrl = '';

  beforeAll(async () => {
    const listen = async (allowedIps?: string[]) => {
      const app = express();
      const options = {
        keyStore: memoryKeyStore({ [KEY_ID]: SECRET, [OTHER_KEY_ID]: OTHER_SECRET }),
        maxBodyBytes: MAX_BODY,
        readTimeoutMs: READ_TIMEOUT,
        onEvent,
        ...(allowedIps ? { allowedIps } : {}),
      };
      app.use(PATH, kompliantWebhook(options));
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    url = await listen();
    restrictedUrl = await listen(['203.0.113.0/24']);
  });
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));
  beforeEach(() => onEvent.mockClear());

  it('has at least 60 cases, all with distinct names', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const target = c.restricted ? restrictedUrl : url;
    let res: RawResult;
    if (c.send) {
      res = await c.send(target);
    } else {
      let req = request(target)[(c.method ?? 'POST').toLowerCase() as 'post'](PATH);
      const headers = { 'content-type': 'application/json', ...c.headers };
      for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
      if (c.body !== undefined) req = req.serialize((data: unknown) => data as string).send(c.body as string);
      res = await req;
    }
    expect(res.status).toBe(c.status);
    expect(res.status).toBeLessThan(500);
    expect(res.body.error?.code).toBe(c.code);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('afterwards the process is alive, Object.prototype is clean, and a valid event is handled', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).key_id).toBeUndefined();
    const res = await request(url).post(PATH).send(valid());
    expect(res.status).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
  });
});
