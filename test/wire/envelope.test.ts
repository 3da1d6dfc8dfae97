import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, openEnvelope } from '../../src/index.js';
import { isValidKeyId } from '../../src/wire.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET, countingKeyStore } from '../support/app.js';

const valid = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });

/** What `openEnvelope` throws for `body`, or `undefined` when it opens. */
function refusalOf(body: unknown): { code?: string; message?: string } | undefined {
  try {
    openEnvelope(body, SECRET);
    return undefined;
  } catch (error) {
    return error as { code?: string; message?: string };
  }
}

const codeOf = (body: unknown): string | undefined => refusalOf(body)?.code;

describe('what a refused envelope is told: the field and the rule, never the value', () => {
  const without = (field: string) => Object.fromEntries(Object.entries(valid()).filter(([name]) => name !== field));
  it.each([
    ['key_id missing', without('key_id'), 'key_id is missing'],
    ['id a number', { ...valid(), id: 42 }, 'id must be a string'],
    ['event_type not upper snake case', { ...valid(), event_type: 'Bad Type' }, 'event_type has an invalid format'],
    ['data missing', without('data'), 'data is missing'],
    ['data a number', { ...valid(), data: 42 }, 'data must be a string'],
    ['data not base64', { ...valid(), data: 'abc$' }, 'data is not standard base64'],
    ['data too short', { ...valid(), data: 'AAAA' }, 'data decodes to fewer than 28 bytes'],
    ['retry_count negative', { ...valid(), retry_count: -1 }, 'retry_count must be a non-negative integer'],
  ])('%s', (_name, body, rule) => {
    expect(refusalOf(body)?.message).toBe(`Webhook envelope is invalid: ${rule}`);
  });
});

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
    ['timestamp', '2025-11-21T14:30.22Z'],
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

  it.each(['key_id', 'id', 'event_type', 'timestamp', 'account_id', 'schema_version', 'data', 'retry_count'])(
    'never runs an inherited getter: %s missing as an own field but defined on the prototype',
    (field) => {
      let reads = 0;
      const prototype = Object.defineProperty({}, field, {
        get() {
          reads++;
          return field === 'retry_count' ? -1 : 'x';
        },
      });
      const envelope = Object.create(prototype) as object;
      for (const [name, value] of Object.entries(valid())) {
        if (name !== field) Object.defineProperty(envelope, name, { value, enumerable: true, writable: true, configurable: true });
      }
      // retry_count is optional: without an own one the envelope is valid and the inherited -1 unseen.
      if (field === 'retry_count') expect(codeOf(envelope)).toBeUndefined();
      else expect(codeOf(envelope)).toBe('INVALID_ENVELOPE');
      expect(reads).toBe(0);
    },
  );

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

// An independent statement of the timestamp and schema_version rules: the regular expressions
// of the spec's formats plus a calendar check by Date in a year with the same leap rule (the
// Gregorian calendar repeats every 400 years, which also keeps Date away from years 0-99).
const REFERENCE_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;
const REFERENCE_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
function referenceIsDate(year: string, month: string, day: string): boolean {
  const m = Number(month);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(2000 + (Number(year) % 400), m, 0)).getUTCDate();
}
function referenceIsDateTime(value: string): boolean {
  const m = REFERENCE_DATE_TIME.exec(value);
  if (m === null) return false;
  const [, y = '', mo = '', d = '', h, mi, s, oh, om] = m;
  if (!referenceIsDate(y, mo, d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return false;
  return oh === undefined || (Number(oh) <= 23 && Number(om) <= 59);
}
function referenceIsSchemaVersion(value: string): boolean {
  const m = REFERENCE_DATE.exec(value);
  return m !== null && referenceIsDate(m[1] ?? '', m[2] ?? '', m[3] ?? '');
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
// Near-valid shapes: every field over and past its range, odd fractions and zones, and the odd
// character out (a full-width or Arabic-Indic digit, lower-case t/z, a space).
const datePart = fc
  .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
  .map(([y, m, d]) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
const timePart = fc
  .tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 61 }))
  .map(([h, m, s]) => `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`);
const fraction = fc.oneof(fc.constant(''), fc.stringMatching(/^\.[0-9]{0,11}$/));
const zone = fc.oneof(
  fc.constantFrom('Z', 'z', '', '+0530', '+05:3', 'Z ', '+05:30Z'),
  fc
    .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }))
    .map(([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`),
);
const dateTime = fc.tuple(datePart, fc.constantFrom('T', 't', ' '), timePart, fraction, zone).map((parts) => parts.join(''));
const mutated = fc
  .tuple(dateTime, fc.nat(), fc.constantFrom('\uff11', '\u0661', 'x', '', '0', ':', '-', '\n'))
  .map(([text, at, replacement]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + replacement + text.slice(i + 1);
  });

describe('timestamp and schema_version rules (property)', () => {
  function acceptsField(field: 'timestamp' | 'schema_version', value: string): boolean {
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID, [field]: value });
    const code = codeOf(envelope);
    if (code !== undefined && code !== 'INVALID_ENVELOPE') throw new Error(`unexpected ${code}`);
    return code === undefined;
  }

  it('accepts exactly the timestamps the reference accepts', () => {
    fc.assert(
      fc.property(fc.oneof(dateTime, mutated), (value) => {
        expect(acceptsField('timestamp', value)).toBe(referenceIsDateTime(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts exactly the schema versions the reference accepts', () => {
    fc.assert(
      fc.property(fc.oneof(datePart, datePart.map((d) => `${d}T`), mutated.map((t) => t.slice(0, 10))), (value) => {
        expect(acceptsField('schema_version', value)).toBe(referenceIsSchemaVersion(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('follows the Gregorian leap rule, year 0000 included', () => {
    expect(acceptsField('timestamp', '2000-02-29T00:00:00Z')).toBe(true);
    expect(acceptsField('timestamp', '1900-02-29T00:00:00Z')).toBe(false);
    expect(acceptsField('timestamp', '0000-02-29T00:00:00Z')).toBe(true);
    expect(acceptsField('schema_version', '2100-02-29')).toBe(false);
  });
});
