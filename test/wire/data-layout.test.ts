import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createWebhookReceiver,
  kompliantWebhook,
  memoryKeyStore,
  openEnvelope,
  type DataLayoutName,
  type KompliantEvent,
} from '../../src/index.js';
import { DATA_LAYOUT_NAMES, decryptData, defaultAad, type EnvelopeMetadata } from '../../src/wire.js';
import { detectEnvelopeFormat } from '../../src/wire/detect.js';

const DEFAULT_DATA_LAYOUT: DataLayoutName = 'nonce-ciphertext-tag';
import { kompliantFastify, kompliantPreHandler } from '../../src/fastify.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createLambdaHandler } from '../../src/lambda.js';
import { createTestWebhook, generateSharedSecret, sealData } from '../../src/testing.js';
import Fastify from 'fastify';
import {
  expressDriver,
  fastifyDriver,
  fastifyPassDriver,
  fetchDriver,
  lambdaDriver,
} from '../support/adapter-drivers.js';
import { httpApiEvent } from '../support/lambda-events.js';
import { startEmulatorWithClient } from '../support/emulator.js';
import { startTestReceiver } from '../support/receiver.js';
import { loadEnvelopeVectors } from '../support/vectors.js';
import { startEmulator } from '../../src/emulator.js';

const KEY_ID = 'whk_20251121_01';
const secret = generateSharedSecret();
const keyStore = () => memoryKeyStore({ [KEY_ID]: secret });
const payload = { version: '1.0', subject_record_id: 'sr_layout', user_context: { user_id: 'u_1', user_type: 'USER' } };
const NON_DEFAULT = DATA_LAYOUT_NAMES.filter((name) => name !== DEFAULT_DATA_LAYOUT);
const JSON_HEADERS = { 'content-type': 'application/json' };

function fixture(layout: DataLayoutName | undefined) {
  return createTestWebhook({ secret, keyId: KEY_ID, data: payload, ...(layout === undefined ? {} : { layout }) });
}

describe('layout names', () => {
  it('are the six orders of nonce, ciphertext and tag, the spec default first', () => {
    expect(DATA_LAYOUT_NAMES[0]).toBe(DEFAULT_DATA_LAYOUT);
    expect(new Set(DATA_LAYOUT_NAMES).size).toBe(6);
    for (const name of DATA_LAYOUT_NAMES) expect(name.split('-').toSorted()).toEqual(['ciphertext', 'nonce', 'tag']);
  });

  it('a fixture in the default layout is nonce(12) || ciphertext || tag(16), as the spec says', () => {
    const nonce = Buffer.alloc(12, 7);
    const plaintext = Buffer.from('{"a":1}');
    const aad = Buffer.from('aad');
    const spec = sealData(secret, plaintext, aad, nonce);
    expect(sealData(secret, plaintext, aad, nonce, DEFAULT_DATA_LAYOUT)).toEqual(spec);
    expect(spec.subarray(0, 12)).toEqual(nonce);
    // Every other layout holds the same three parts, moved.
    const tag = spec.subarray(spec.length - 16);
    const ciphertext = spec.subarray(12, spec.length - 16);
    const parts = { nonce, ciphertext, tag };
    for (const name of DATA_LAYOUT_NAMES) {
      const expected = Buffer.concat(name.split('-').map((part) => parts[part as keyof typeof parts]));
      expect(sealData(secret, plaintext, aad, nonce, name)).toEqual(expected);
    }
  });
});

describe.each(DATA_LAYOUT_NAMES.map((name) => [name]))('layout %s round-trips', (layout) => {
  it('through createTestWebhook, createWebhookReceiver and openEnvelope', async () => {
    const envelope = fixture(layout);
    const receiver = createWebhookReceiver({ keyStore: keyStore(), layout });
    expect((await receiver.receive(envelope)).data).toEqual(payload);
    expect((await receiver.receive(JSON.stringify(envelope))).data).toEqual(payload);
    expect(openEnvelope(envelope, secret, { layout }).data).toEqual(payload);
    const { duplicate, event } = await receiver.handle(envelope, () => undefined);
    expect({ duplicate, data: event.data }).toEqual({ duplicate: false, data: payload });
  });

  it('through decryptData with the layout name', () => {
    const envelope = fixture(layout);
    const aad = defaultAad(envelope);
    const plaintext = decryptData(secret, Buffer.from(envelope.data, 'base64'), aad, layout);
    expect(JSON.parse(plaintext.toString('utf8'))).toEqual(payload);
  });

  const drivers = [expressDriver, fetchDriver, fastifyDriver, fastifyPassDriver, lambdaDriver('Lambda: HTTP API (v2)', httpApiEvent)];
  it.each(drivers.map((driver) => [driver.name, driver] as const))('through the %s adapter', async (_name, driver) => {
    const events: KompliantEvent[] = [];
    const send = await driver.create({ keyStore: keyStore(), layout, onEvent: (event) => void events.push(event), onError() {} });
    const envelope = fixture(layout);
    const ok = await send({ method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(envelope) });
    expect(ok.status).toBe(200);
    expect(events.map((e) => e.data)).toEqual([payload]);
    // The same adapter refuses the spec layout when configured otherwise (and vice versa).
    const other = layout === DEFAULT_DATA_LAYOUT ? NON_DEFAULT[0] : DEFAULT_DATA_LAYOUT;
    const wrong = await send({ method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(fixture(other)) });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: { code: 'DECRYPTION_FAILED', message: expect.any(String) } });
    expect(events).toHaveLength(1);
  });
});

describe('a wrong layout', () => {
  it('is DECRYPTION_FAILED for every pair of different layouts, through openEnvelope', () => {
    for (const sealedWith of DATA_LAYOUT_NAMES) {
      const envelope = fixture(sealedWith);
      for (const openedWith of DATA_LAYOUT_NAMES) {
        if (openedWith === sealedWith) continue;
        expect(() => openEnvelope(envelope, secret, { layout: openedWith }), `${sealedWith} opened as ${openedWith}`).toThrowError(
          expect.objectContaining({ code: 'DECRYPTION_FAILED', status: 401 }),
        );
      }
    }
  });

  it('is DECRYPTION_FAILED through the receiver, for a receiver left at the default', async () => {
    const receiver = createWebhookReceiver({ keyStore: keyStore() });
    for (const layout of NON_DEFAULT) {
      await expect(receiver.receive(fixture(layout))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    }
  });

  it('never accepts a truncated tag or a modified byte, in any layout (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DATA_LAYOUT_NAMES),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 16 }),
        (layout, position, flip, cut) => {
          const bytes = Buffer.from(JSON.stringify(payload));
          const aad = Buffer.from('fixed');
          const sealed = sealData(secret, bytes, aad, undefined, layout);
          const modified = Buffer.from(sealed);
          const at = position % modified.length;
          modified[at] = modified[at]! ^ flip;
          expect(() => decryptData(secret, modified, aad, layout)).toThrowError(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
          // Dropping bytes from either end can never pass as a shorter tag.
          for (const short of [sealed.subarray(cut), sealed.subarray(0, sealed.length - cut)]) {
            expect(() => decryptData(secret, short, aad, layout)).toThrowError(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
          }
          expect(decryptData(secret, sealed, aad, layout)).toEqual(bytes);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the layout option is checked at construction', () => {
  const BAD: ReadonlyArray<[string, unknown]> = [
    ['the old detect spelling', 'nonce|tag|ciphertext'],
    ['upper case', 'NONCE-TAG-CIPHERTEXT'],
    ['an inherited property name', 'constructor'],
    ['__proto__', '__proto__'],
    ['an empty string', ''],
    ['null', null],
    ['a number', 1],
    ['a function', (data: Uint8Array) => data],
    ['an object', { name: 'nonce-tag-ciphertext' }],
  ];
  const MESSAGE = /^layout must be one of 'nonce-ciphertext-tag', 'nonce-tag-ciphertext', /;
  const base = { keyStore: memoryKeyStore({}), onEvent() {} };
  const constructors: ReadonlyArray<[string, (layout: unknown) => unknown]> = [
    ['createWebhookReceiver', (layout) => createWebhookReceiver({ keyStore: memoryKeyStore({}), layout } as never)],
    ['kompliantWebhook', (layout) => kompliantWebhook({ ...base, layout } as never)],
    ['createFetchHandler', (layout) => createFetchHandler({ ...base, layout } as never)],
    ['kompliantPreHandler', (layout) => kompliantPreHandler({ ...base, layout } as never)],
    ['createLambdaHandler', (layout) => createLambdaHandler({ ...base, layout } as never)],
    ['openEnvelope', (layout) => openEnvelope(fixture(undefined), secret, { layout } as never)],
    ['createTestWebhook', (layout) => createTestWebhook({ secret, layout } as never)],
    ['decryptData', (layout) => decryptData(secret, Buffer.alloc(40), Buffer.alloc(0), layout as never)],
    ['sealData', (layout) => sealData(secret, Buffer.alloc(4), Buffer.alloc(0), undefined, layout as never)],
  ];

  it.each(constructors)('%s throws a TypeError naming layout', (_name, make) => {
    for (const [label, value] of BAD) {
      expect(() => make(value), label).toThrowError(TypeError);
      expect(() => make(value), label).toThrowError(MESSAGE);
    }
    for (const name of DATA_LAYOUT_NAMES) {
      // decryptData of zero bytes fails authentication, but never as a configuration error.
      let thrown: unknown;
      try {
        make(name);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, name).not.toBeInstanceOf(TypeError);
    }
  });

  it('the Fastify plugin fails ready() with the same TypeError', async () => {
    const app = Fastify();
    app.register(kompliantFastify, { keyStore: memoryKeyStore({}), onEvent() {}, layout: 'nonce|tag|ciphertext' as never });
    await expect(app.ready()).rejects.toThrowError(MESSAGE);
  });

  it('an explicit default behaves exactly like no layout: the shared vectors give the same answers', async () => {
    const vectors = loadEnvelopeVectors();
    const plain = createWebhookReceiver({ keyStore: memoryKeyStore(vectors.keys) });
    const explicit = createWebhookReceiver({ keyStore: memoryKeyStore(vectors.keys), layout: 'nonce-ciphertext-tag' });
    const outcome = (receiver: typeof plain, body: string) =>
      receiver.receive(body).then(
        (event) => ({ ok: event }),
        (error: { code: string }) => ({ code: error.code }),
      );
    for (const c of vectors.cases) {
      expect(await outcome(explicit, c.body), c.name).toEqual(await outcome(plain, c.body));
    }
  });
});

describe('detect -> option -> receiver', () => {
  it.each(DATA_LAYOUT_NAMES.map((name) => [name]))('detect names %s, and a receiver configured with that name opens it', async (layout) => {
    const envelope = fixture(layout);
    const matches = detectEnvelopeFormat(envelope, secret);
    expect(matches).toEqual([
      {
        layout,
        aad: expect.stringMatching(/^default/),
        option: "aad: 'default'",
        ...(layout === DEFAULT_DATA_LAYOUT ? {} : { layoutOption: `layout: '${layout}'` }),
        jsonPayload: true,
      },
    ]);
    const [match] = matches;
    // Configured as detect says: `aad: 'default'` spelled out.
    const receiver = createWebhookReceiver({ keyStore: keyStore(), layout: match!.layout, aad: 'default' });
    expect((await receiver.receive(envelope)).data).toEqual(payload);
  });

  it('a plaintext that is no JSON object still authenticates, and is marked so', () => {
    const envelope = fixture(undefined);
    const { data: _data, retry_count: _retryCount, ...metadata } = envelope;
    const data = sealData(secret, Buffer.from('not json'), defaultAad(metadata), Buffer.alloc(12, 7)).toString('base64');
    expect(detectEnvelopeFormat({ ...envelope, data }, secret)).toEqual([expect.objectContaining({ layout: DEFAULT_DATA_LAYOUT, jsonPayload: false })]);
    expect(detectEnvelopeFormat(envelope, secret)).toEqual([expect.objectContaining({ jsonPayload: true })]);
  });

  it("names a Python json.dumps AAD (', ' and ': ' separators) and only that", () => {
    const python = (m: EnvelopeMetadata) =>
      `{"id": "${m.id}", "event_type": "${m.event_type}", "timestamp": "${m.timestamp}", "account_id": "${m.account_id}", "schema_version": "${m.schema_version}", "key_id": "${m.key_id}"}`;
    const envelope = createTestWebhook({ secret, keyId: KEY_ID, data: payload, aad: python });
    expect(detectEnvelopeFormat(envelope, secret).map((match) => match.aad)).toEqual(["metadata JSON with ', ' and ': ' separators (Python json.dumps)"]);
  });

  it('a secret that is no secret is INVALID_KEY, not "no format authenticates"', () => {
    expect(() => detectEnvelopeFormat(fixture(undefined), 'not-a-secret')).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
  });

  it('also with aad none: both options together', async () => {
    const envelope = createTestWebhook({ secret, keyId: KEY_ID, data: payload, aad: 'none', layout: 'ciphertext-nonce-tag' });
    const [match, ...rest] = detectEnvelopeFormat(envelope, secret);
    expect(rest).toEqual([]);
    expect(match).toMatchObject({ layout: 'ciphertext-nonce-tag', option: "aad: 'none'", layoutOption: "layout: 'ciphertext-nonce-tag'" });
    const receiver = createWebhookReceiver({ keyStore: keyStore(), layout: match!.layout, aad: 'none' });
    expect((await receiver.receive(envelope)).data).toEqual(payload);
  });
});

describe('the emulator sends in a configured layout', { timeout: 20_000 }, () => {
  it('a receiver with the same layout accepts its webhooks; one left at the default answers DECRYPTION_FAILED', async () => {
    const layout: DataLayoutName = 'tag-ciphertext-nonce';
    const f = await startEmulatorWithClient({ allowHttpLocalhost: true, timeScale: 0.001, attemptTimeoutMs: 10_000, maxRetries: 0, layout });
    const matching = await startTestReceiver({ layout });
    const defaulted = await startTestReceiver();
    try {
      const key = await f.client.createKey({ accountId: f.account.accountId });
      for (const r of [matching, defaulted]) {
        r.secrets.set(key.key_id, key.shared_secret);
        await f.client.createConfig({ accountId: f.account.accountId, url: r.url });
      }
      await f.client.activateKey({ keyId: key.key_id });
      const emitted = f.emulator.emit({ accountId: f.account.accountId, eventType: 'WORKFLOW_COMPLETED', data: payload });
      await f.emulator.idle();
      expect(matching.events.map((e) => e.data)).toEqual([payload]);
      expect(defaulted.events).toEqual([]);
      expect(f.emulator.deliveries({ eventId: emitted.eventId }).map((d) => d.attempts.map((a) => a.status))).toEqual([[200], [401]]);
      expect(detectEnvelopeFormat(emitted.envelope, key.shared_secret).map((m) => m.layout)).toEqual([layout]);
    } finally {
      await Promise.all([matching.close(), defaulted.close(), f.emulator.close()]);
    }
  });

  it('an unknown layout is a TypeError at startEmulator', async () => {
    await expect(startEmulator({ layout: 'nonce|tag|ciphertext' as never })).rejects.toThrowError(/^layout must be one of /);
  });
});
