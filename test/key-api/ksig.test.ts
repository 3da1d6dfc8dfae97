import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ksig1Headers, ksig1Signature, verifyKsig1 } from '../../src/key-api/ksig.js';

const credentials = { apiKey: 'sb_test123', secretKey: randomBytes(33).toString('base64'), authToken: 'tok_abc' };

function lookup(headers: Record<string, string>): (name: string) => string | undefined {
  return (name) => headers[name];
}

describe('KSig1-HMAC-SHA256 (minimum form)', () => {
  it('signs base64(HMAC-SHA256(decoded secret key, API key))', () => {
    const expected = createHmac('sha256', Buffer.from(credentials.secretKey, 'base64')).update(credentials.apiKey).digest('base64');
    expect(ksig1Signature(credentials.apiKey, credentials.secretKey)).toBe(expected);
    expect(ksig1Headers(credentials)).toEqual({
      authorization: `KSig1-HMAC-SHA256 ${expected}`,
      'x-api-key': credentials.apiKey,
      'x-api-auth-token': credentials.authToken,
    });
  });

  it('verifies its own headers', () => {
    expect(verifyKsig1(lookup({ ...ksig1Headers(credentials) }), credentials)).toBe(true);
  });

  it.each([
    ['a missing Authorization header', 'authorization', undefined],
    ['a missing X-API-Key header', 'x-api-key', undefined],
    ['a missing X-API-Auth-Token header', 'x-api-auth-token', undefined],
    ['a wrong auth token', 'x-api-auth-token', 'tok_wrong'],
    ['another API key', 'x-api-key', 'sb_other'],
    ['a wrong scheme', 'authorization', `Bearer ${ksig1Signature(credentials.apiKey, credentials.secretKey)}`],
    ['a signature made with another secret key', 'authorization', `KSig1-HMAC-SHA256 ${ksig1Signature(credentials.apiKey, randomBytes(33).toString('base64'))}`],
  ])('refuses %s', (_name, header, value) => {
    const headers: Record<string, string> = { ...ksig1Headers(credentials) };
    if (value === undefined) delete headers[header];
    else headers[header] = value;
    expect(verifyKsig1(lookup(headers), credentials)).toBe(false);
  });

  it('refuses any altered signature (property)', () => {
    const good = ksig1Signature(credentials.apiKey, credentials.secretKey);
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (signature) => {
        fc.pre(signature !== good);
        const headers = { ...ksig1Headers(credentials), authorization: `KSig1-HMAC-SHA256 ${signature}` };
        return !verifyKsig1(lookup(headers), credentials);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a secret key that is not 33 bytes, without echoing it', () => {
    const bad = randomBytes(32).toString('base64');
    expect(() => ksig1Signature('sb_x', bad)).toThrow(TypeError);
    try {
      ksig1Signature('sb_x', bad);
    } catch (error) {
      expect(String(error)).not.toContain(bad);
    }
  });
});
