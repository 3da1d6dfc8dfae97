import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, isValidKeyId, openEnvelope } from '../src/index.js';
import { createTestWebhook } from '../src/testing.js';
import { KEY_ID, SECRET, countingKeyStore } from './support/app.js';

const valid = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });

function codeOf(body: unknown): string | undefined {
  try {
    openEnvelope(body, SECRET);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('envelope rules (spec section 1)', () => {
  it('accepts a valid envelope and returns exactly the known fields plus data', () => {
    const envelope = { ...valid(), extra_field: 'ignored', retry_count: 3 };
    const event = openEnvelope(envelope, SECRET);
    expect(Object.keys(event).toSorted()).toEqual(
      ['account_id', 'data', 'event_type', 'id', 'key_id', 'retry_count', 'schema_version', 'timestamp'].toSorted(),
    );
    expect(event.retry_count).toBe(3);
  });

  it('defaults retry_count to 0 when absent', () => {
    const { retry_count: _omit, ...envelope } = valid();
    expect(openEnvelope(envelope, SECRET).retry_count).toBe(0);
  });

  it.each([
    ['id', ''],
    ['id', 'a'.repeat(129)],
    ['id', 'wh_bad id'],
    ['id', 'wh_ü'],
    ['id', 42],
    ['event_type', ''],
    ['event_type', 'WORKFLOW COMPLETED'],
    ['event_type', 'X'.repeat(129)],
    ['event_type', null],
    ['timestamp', '2025-11-21'],
    ['timestamp', '2025-11-21 14:30:22Z'],
    ['timestamp', '2025-13-21T14:30:22Z'],
    ['timestamp', '2025-02-30T14:30:22Z'],
    ['timestamp', '2025-11-21T24:00:00Z'],
    ['timestamp', '2025-11-21T14:30:22'],
    ['timestamp', '2025-11-21T14:30:22.123+0530'],
    ['timestamp', 1732199422],
    ['account_id', ''],
    ['account_id', 'lv_../x'],
    ['schema_version', '2025-11'],
    ['schema_version', '20251121'],
    ['schema_version', '2025-11-32'],
    ['key_id', 'whk_2025112_01'],
    ['key_id', 'whk_20251121_1'],
    ['key_id', 'WHK_20251121_01'],
    ['key_id', 'whk_20251121_01 '],
    ['key_id', 'whk_20251121_01\n'],
    ['key_id', 'whk_２0251121_01'],
    ['key_id', '../../prod/db-password'],
    ['key_id', ['whk_20251121_01']],
    ['data', 42],
    ['data', ''],
    ['retry_count', -1],
    ['retry_count', 1.5],
    ['retry_count', '0'],
    ['retry_count', null],
  ])('rejects %s = %j with INVALID_ENVELOPE', (field, value) => {
    expect(codeOf({ ...valid(), [field]: value })).toBe('INVALID_ENVELOPE');
  });

  it.each(['id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'key_id', 'data'])(
    'rejects a missing %s with INVALID_ENVELOPE',
    (field) => {
      const envelope: Record<string, unknown> = { ...valid() };
      delete envelope[field];
      expect(codeOf(envelope)).toBe('INVALID_ENVELOPE');
    },
  );

  it.each([
    ['2025-11-21T14:30:22Z'],
    ['2025-11-21T14:30:22.1Z'],
    ['2025-11-21T14:30:22.123456+05:30'],
    ['2024-02-29T23:59:59-08:00'],
  ])('accepts timestamp %s (authenticated as received)', (timestamp) => {
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID, timestamp });
    expect(openEnvelope(envelope, SECRET).timestamp).toBe(timestamp);
  });

  it.each([[null], [[]], ['"string"'], [42], ['[1,2]'], ['null'], [''], ['{']])(
    'rejects a body that is not a JSON object (%j) with INVALID_JSON',
    (body) => {
      expect(codeOf(body)).toBe('INVALID_JSON');
    },
  );

  it('reads only own properties: an inherited field does not count', () => {
    const inherited = Object.create(valid()) as object;
    expect(codeOf(inherited)).toBe('INVALID_ENVELOPE');
  });

  it('isValidKeyId matches exactly whk_YYYYMMDD_NN', () => {
    expect(isValidKeyId('whk_20251121_01')).toBe(true);
    expect(isValidKeyId('whk_20251121_001')).toBe(false);
    expect(isValidKeyId(undefined)).toBe(false);
  });
});

describe('strict base64 for data', () => {
  const encoded = () => valid().data;

  it('accepts data with and without = padding', () => {
    const envelope = valid();
    const unpadded = envelope.data.replace(/=+$/, '');
    expect(() => openEnvelope({ ...envelope, data: unpadded }, SECRET)).not.toThrow();
  });

  it.each([
    ['a newline inside', (d: string) => `${d.slice(0, 8)}\n${d.slice(8)}`],
    ['a space inside', (d: string) => `${d.slice(0, 8)} ${d.slice(8)}`],
    ['a trailing space', (d: string) => `${d} `],
    ['url-safe - and _', (d: string) => `-_${d.slice(2)}`],
    ['a character outside the alphabet', (d: string) => `${d.slice(0, 4)}*${d.slice(5)}`],
    ['padding in the middle', (d: string) => `${d.slice(0, 4)}=${d.slice(4)}`],
    ['three = of padding', (d: string) => `${d.replace(/=+$/, '')}===`],
    ['a length of 4n+1', (d: string) => {
      let body = d.replace(/=+$/, '');
      while (body.length % 4 !== 1) body += 'A';
      return body;
    }],
  ])('rejects data with %s', (_name, mutate) => {
    const envelope = valid();
    expect(codeOf({ ...envelope, data: mutate(encoded()) })).toBe('INVALID_ENVELOPE');
  });

  it('rejects non-canonical trailing bits', () => {
    // 'QQ==' is canonical for one byte 0x41; 'QR==' decodes to the same byte with non-zero unused bits.
    const base = Buffer.alloc(31, 0x41).toString('base64'); // 31 bytes = 10 groups + 1 byte -> 'QQ=='
    expect(base.endsWith('Q==')).toBe(true);
    const tweaked = `${base.slice(0, -3)}R==`;
    expect(codeOf({ ...valid(), data: tweaked })).toBe('INVALID_ENVELOPE');
  });

  it('rejects data that decodes to fewer than 28 bytes', () => {
    expect(codeOf({ ...valid(), data: Buffer.alloc(27).toString('base64') })).toBe('INVALID_ENVELOPE');
  });
});

describe('the key store is reached only by well-formed envelopes', () => {
  it.each([
    ['../x', { key_id: '../x' }],
    ['a SQL injection', { key_id: "whk_20251121_01' OR '1'='1" }],
    ['a bad id with a good key_id', { id: '<script>' }],
    ['bad data with a good key_id', { data: '!!!' }],
  ])('makes no key-store call for %s', async (_name, patch) => {
    const keyStore = countingKeyStore();
    const receiver = createWebhookReceiver({ keyStore });
    await expect(receiver.receive({ ...valid(), ...patch })).rejects.toMatchObject({ code: 'INVALID_ENVELOPE' });
    expect(keyStore.calls).toEqual([]);
  });

  it('asks the store once, with the validated key id', async () => {
    const keyStore = countingKeyStore();
    await createWebhookReceiver({ keyStore }).receive(valid());
    expect(keyStore.calls).toEqual([KEY_ID]);
  });
});
