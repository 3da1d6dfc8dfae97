import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envKeyStore, isValidSharedSecret, isWebhookError, memoryKeyStore, openEnvelope, requireValidSharedSecret } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

// The straightforward definition of canonical standard base64 (what src/base64.ts used to run
// as a regex), kept here as the reference the faster decoder must agree with on every input.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function referenceDecode(text: string): Buffer | undefined {
  const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(text);
  if (!m) return undefined;
  const body = m[1] as string;
  const padding = (m[2] as string).length;
  const remainder = body.length % 4;
  if (remainder === 1) return undefined;
  if (padding > 0 && (text.length % 4 !== 0 || padding !== 4 - remainder)) return undefined;
  if (remainder !== 0) {
    const last = ALPHABET.indexOf(body.charAt(body.length - 1));
    if ((last & (remainder === 2 ? 0b1111 : 0b11)) !== 0) return undefined;
  }
  return Buffer.from(body, 'base64');
}

// U+0141 (low byte 0x41, 'A'), U+012F (0x2F, '/') and U+0D2B (0x2B, '+') are the characters a
// decoder that keeps only the low byte of each UTF-16 unit would read as alphabet characters.
const NOISE = ['=', '-', '_', ' ', '\n', '\t', '.', '*', '\u0000', 'é', '€', '😀', 'A', '+', '/', '\u0141', '\u012f', '\u0d2b'];

/** Valid base64 (padded or not) with zero to three edits: insert, replace, or drop a character. */
const base64ish = fc
  .tuple(
    fc.uint8Array({ minLength: 0, maxLength: 60 }),
    fc.boolean(),
    fc.array(fc.tuple(fc.constantFrom('insert', 'replace', 'drop'), fc.nat(), fc.constantFrom(...NOISE)), { maxLength: 3 }),
  )
  .map(([bytes, stripPadding, edits]) => {
    let text = Buffer.from(bytes).toString('base64');
    if (stripPadding) text = text.replace(/=+$/, '');
    for (const [kind, at, char] of edits) {
      const i = text.length === 0 ? 0 : at % (text.length + (kind === 'insert' ? 1 : 0));
      if (kind === 'insert') text = text.slice(0, i) + char + text.slice(i);
      else if (kind === 'replace') text = text.slice(0, i) + char + text.slice(i + 1);
      else text = text.slice(0, i) + text.slice(i + 1);
    }
    return text;
  });

const secret = generateSharedSecret();
const template = createTestWebhook({ secret, keyId: 'whk_20251121_01' });

function envelopeCode(data: string): string {
  try {
    openEnvelope({ ...template, data }, secret);
    return 'OPENED';
  } catch (error) {
    if (!isWebhookError(error)) throw error;
    return error.code;
  }
}

describe('strict base64 (data field and shared secrets) agrees with the reference definition', () => {
  it('envelope data: INVALID_ENVELOPE exactly when the reference refuses it or it is under 28 bytes', () => {
    fc.assert(
      fc.property(base64ish, (data) => {
        const decoded = referenceDecode(data);
        const expected = decoded === undefined || decoded.length < 28 ? 'INVALID_ENVELOPE' : 'DECRYPTION_FAILED';
        expect(envelopeCode(data)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('shared secrets: valid exactly when the reference decodes them to 32 bytes', () => {
    const secretish = fc
      .tuple(fc.uint8Array({ minLength: 31, maxLength: 33 }), base64ish)
      .chain(([bytes]) => fc.constant(Buffer.from(bytes).toString('base64')))
      .chain((text) => base64ish.map((noise) => (noise.length % 3 === 0 ? text : `${text.slice(0, 20)}${noise.slice(0, 3)}${text.slice(23)}`)));
    fc.assert(
      fc.property(secretish, (text) => {
        expect(isValidSharedSecret(text)).toBe(referenceDecode(text)?.length === 32);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['url-safe characters', 'ab-_'.repeat(10)],
    ['inner padding', `${'QUJD'.repeat(9)}QQ==QUJD`],
    ['whitespace', `${'QUJD'.repeat(5)} ${'QUJD'.repeat(5)}`],
    ['non-zero trailing bits', `${'QUJD'.repeat(9)}QR`],
    ['a non-ASCII character', `${'QUJD'.repeat(9)}QUé`],
  ])('refuses %s', (_name, data) => {
    expect(referenceDecode(data)).toBeUndefined();
    expect(envelopeCode(data)).toBe('INVALID_ENVELOPE');
  });

  it('refuses padding that does not match the length: one = where two belong, two where one belongs', () => {
    // The same bytes decode either way with Buffer.from; only the strict decoder tells them apart.
    // 12 + 7 + 16 = 35 bytes of data end in one =, 12 + 9 + 16 = 37 bytes in two.
    const one = createTestWebhook({ secret, keyId: 'whk_20251121_01', data: { n: 1 } });
    const two = createTestWebhook({ secret, keyId: 'whk_20251121_01', data: { abc: 1 } });
    expect([one.data.slice(-2), two.data.slice(-2)].map((end) => end.replace(/[^=]/g, ''))).toEqual(['=', '==']);
    for (const [envelope, wrong] of [[two, two.data.slice(0, -1)], [one, `${one.data}=`]] as const) {
      expect(openEnvelope(envelope, secret).id).toBe(envelope.id);
      expect(() => openEnvelope({ ...envelope, data: wrong }, secret)).toThrow(expect.objectContaining({ code: 'INVALID_ENVELOPE' }));
    }
    // A shared secret is 32 bytes: 43 characters and one =.
    const secretText = Buffer.alloc(32, 7).toString('base64');
    expect(isValidSharedSecret(secretText)).toBe(true);
    expect(isValidSharedSecret(`${secretText}=`)).toBe(false);
  });

  it('accepts canonical base64 of large bodies (a 256 KiB ciphertext) and opens it', () => {
    const big = createTestWebhook({ secret, keyId: 'whk_20251121_01', data: { blob: 'x'.repeat(256 * 1024) } });
    expect((openEnvelope(big, secret).data as unknown as { blob: string }).blob).toHaveLength(256 * 1024);
  });
});

describe('non-ASCII characters whose low byte is an alphabet character are refused by every base64 input', () => {
  // 'Ł' is U+0141: Buffer.from(text, 'base64') keeps its low byte 0x41 and reads it as 'A'.
  const zeroSecret = Buffer.alloc(32).toString('base64'); // 'AAAA...A='
  const lookalikeSecret = `\u0141${zeroSecret.slice(1)}`;

  it('envelope data', () => {
    // The template's ciphertext is random, so the character replaced is its first, whatever it is:
    // U+0100 plus its code has the same low byte.
    const data = template.data;
    const lookalike = String.fromCharCode(0x100 + data.charCodeAt(0));
    expect(Buffer.from(`${lookalike}${data.slice(1)}`, 'base64').equals(Buffer.from(data, 'base64'))).toBe(true);
    expect(envelopeCode(data)).toBe('OPENED');
    expect(envelopeCode(`${lookalike}${data.slice(1)}`)).toBe('INVALID_ENVELOPE');
  });

  it('shared secrets: isValidSharedSecret, requireValidSharedSecret, memoryKeyStore and envKeyStore', async () => {
    expect(isValidSharedSecret(zeroSecret)).toBe(true);
    expect(isValidSharedSecret(lookalikeSecret)).toBe(false);
    expect(isValidSharedSecret(`${zeroSecret.slice(0, -2)}\u012f=`)).toBe(false);
    expect(() => requireValidSharedSecret(lookalikeSecret)).toThrow(expect.objectContaining({ code: 'INVALID_KEY' }));
    expect(() => memoryKeyStore({ whk_20251121_01: lookalikeSecret })).toThrow(TypeError);
    expect(() => envKeyStore({ env: { KOMPLIANT_WEBHOOK_SECRET_20251121_01: lookalikeSecret } })).toThrow(TypeError);
    const variables: Record<string, string> = { KOMPLIANT_WEBHOOK_SECRET_20251121_01: zeroSecret };
    const env = envKeyStore({ env: variables });
    variables.KOMPLIANT_WEBHOOK_SECRET_20251121_01 = lookalikeSecret; // changed after the start-up check
    await expect(env.getSecret('whk_20251121_01')).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });
});
