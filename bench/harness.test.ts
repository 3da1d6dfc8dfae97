import { createServer } from 'node:http';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { memoryKeyStore } from '../src/index.js';
import { createFetchHandler } from '../src/fetch.js';
import { createTestWebhook, generateSharedSecret } from '../src/testing.js';
import { fetchToNodeListener } from './fetch-bridge.js';
import { parseBenchOptions } from './options.js';
import { payloadOfSize, PAYLOAD_SIZES } from './payloads.js';
import { firstToLastTenthGrowth, median } from './summary-statistics.js';

// The bench harness itself (CI also runs `npm run bench -- --smoke` end to end).
describe('bench harness', () => {
  it('median: odd, even, unsorted input left untouched', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('growth compares the medians of the first and last tenth', () => {
    const flat = Array.from({ length: 100 }, () => 100);
    expect(firstToLastTenthGrowth(flat)).toBe(0);
    const rising = Array.from({ length: 100 }, (_, i) => (i < 10 ? 100 : i >= 90 ? 120 : 110));
    expect(firstToLastTenthGrowth(rising)).toBeCloseTo(0.2);
    expect(firstToLastTenthGrowth([1, 2, 3])).toBeNaN();
  });

  it.each(PAYLOAD_SIZES.map((n) => [n]))('payloadOfSize(%i) is JSON of exactly that many bytes', (bytes) => {
    expect(Buffer.byteLength(JSON.stringify(payloadOfSize(bytes)))).toBe(bytes);
  });

  it('options: defaults, --smoke, --json, --json=FILE, --only; unknown arguments throw', () => {
    expect(parseBenchOptions([])).toMatchObject({ smoke: false, json: false, jsonFile: undefined });
    expect([...parseBenchOptions([]).only]).toEqual(['cpu', 'http', 'keys', 'soak', 'stores', 'sql', 'inbox']);
    const o = parseBenchOptions(['--smoke', '--json=out.json', '--only=keys,cpu']);
    expect(o).toMatchObject({ smoke: true, json: false, jsonFile: 'out.json' });
    expect(o.only).toEqual(new Set(['cpu', 'keys']));
    expect(() => parseBenchOptions(['--only=gpu'])).toThrow(TypeError);
    expect(() => parseBenchOptions(['--fast'])).toThrow(/usage/);
  });

  it('fetch bridge: the Fetch adapter served from node:http answers as it does natively', async () => {
    const secret = generateSharedSecret();
    const events: string[] = [];
    const handler = createFetchHandler({
      keyStore: memoryKeyStore({ whk_20251121_01: secret }),
      onEvent: (event) => {
        events.push(event.id);
      },
    });
    const server = createServer(fetchToNodeListener(handler));
    const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
    const ok = await request(server).post('/webhook').set('content-type', 'application/json').send(JSON.stringify(envelope));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ received: true });
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(events).toEqual([envelope.id]);
    const tampered = await request(server)
      .post('/webhook')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ ...envelope, event_type: 'DOCUMENT_UPLOADED' }));
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('DECRYPTION_FAILED');
    const wrongMethod = await request(server).get('/webhook');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(events).toHaveLength(1);
  });
});
