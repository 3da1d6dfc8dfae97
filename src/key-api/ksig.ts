// KSig1-HMAC-SHA256 request signing and verification for the key management API.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeBase64Strict } from '../wire/base64.js';

/** The `Authorization` scheme of "Kompliant Signature Version 1". */
export const KSIG1_SCHEME = 'KSig1-HMAC-SHA256';
/** Bytes of a Kompliant Secret Key once base64-decoded. */
export const KSIG1_SECRET_KEY_BYTES = 33;

/** The three credentials every key API call is signed with. */
export interface KompliantCredentials {
  /** API key, `sb_...` (sandbox) or `lv_...` (live). Sent as `X-API-Key`. */
  apiKey: string;
  /** Secret key: base64 of 33 bytes. Used only as the HMAC key; never sent, logged or thrown. */
  secretKey: string;
  /** Auth token. Sent as `X-API-Auth-Token`. */
  authToken: string;
}

/** The request headers of the minimum KSig1 form. */
export interface Ksig1Headers {
  authorization: string;
  'x-api-key': string;
  'x-api-auth-token': string;
}

const API_KEY_PATTERN = /^(?:sb|lv)_[A-Za-z0-9_-]{1,128}$/;

/** True for an API key of the documented form (`sb_` or `lv_` prefix). */
export function isValidApiKey(apiKey: unknown): apiKey is string {
  return typeof apiKey === 'string' && API_KEY_PATTERN.test(apiKey);
}

/** True when `secretKey` is strict base64 of exactly 33 bytes. */
export function isValidSecretKey(secretKey: unknown): secretKey is string {
  if (typeof secretKey !== 'string') return false;
  const bytes = decodeBase64Strict(secretKey);
  const ok = bytes !== undefined && bytes.length === KSIG1_SECRET_KEY_BYTES;
  bytes?.fill(0);
  return ok;
}

/**
 * Checks a credentials object once; throws a TypeError naming the bad field (never its value).
 */
export function checkCredentials(value: Partial<KompliantCredentials>, where: string): KompliantCredentials {
  if (!isValidApiKey(value.apiKey)) throw new TypeError(`${where}: apiKey must start with sb_ or lv_`);
  if (!isValidSecretKey(value.secretKey)) throw new TypeError(`${where}: secretKey must be base64 of 33 bytes`);
  if (typeof value.authToken !== 'string' || value.authToken.length === 0 || /[\r\n]/.test(value.authToken)) {
    throw new TypeError(`${where}: authToken must be a non-empty single-line string`);
  }
  return { apiKey: value.apiKey, secretKey: value.secretKey, authToken: value.authToken };
}

/**
 * The KSig1 signature, minimum form: `base64(HMAC-SHA256(key = base64-decoded secret key,
 * message = UTF-8 bytes of the API key))`.
 *
 * @example
 * ```ts
 * const signature = ksig1Signature(apiKey, secretKey);
 * ```
 */
export function ksig1Signature(apiKey: string, secretKey: string): string {
  const key = decodeBase64Strict(secretKey);
  if (key === undefined || key.length !== KSIG1_SECRET_KEY_BYTES) throw new TypeError('secretKey must be base64 of 33 bytes');
  try {
    return createHmac('sha256', key).update(apiKey, 'utf8').digest('base64');
  } finally {
    key.fill(0);
  }
}

/**
 * The three headers of a KSig1-signed request (minimum form of the spec, section 5).
 *
 * @example
 * ```ts
 * await fetch(url, { method: 'POST', headers: { ...ksig1Headers(credentials), 'content-type': 'application/json' }, body });
 * ```
 */
export function ksig1Headers(credentials: KompliantCredentials): Ksig1Headers {
  return {
    authorization: `${KSIG1_SCHEME} ${ksig1Signature(credentials.apiKey, credentials.secretKey)}`,
    'x-api-key': credentials.apiKey,
    'x-api-auth-token': credentials.authToken,
  };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // Equal lengths first (timingSafeEqual needs them); the length of a signature is not secret.
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Verifies the KSig1 headers of a request against the expected credentials. Every comparison
 * uses `timingSafeEqual`. Returns false for a missing header, a wrong scheme, a wrong API key,
 * a wrong auth token or a wrong signature.
 *
 * @example
 * ```ts
 * const ok = verifyKsig1((name) => req.headers[name] as string | undefined, credentials);
 * ```
 */
export function verifyKsig1(header: (name: string) => string | undefined, expected: KompliantCredentials): boolean {
  const authorization = header('authorization');
  const apiKey = header('x-api-key');
  const authToken = header('x-api-auth-token');
  if (authorization === undefined || apiKey === undefined || authToken === undefined) return false;
  const prefix = `${KSIG1_SCHEME} `;
  if (!authorization.startsWith(prefix)) return false;
  const signature = authorization.slice(prefix.length).trim();
  const expectedSignature = ksig1Signature(expected.apiKey, expected.secretKey);
  // Evaluate all three so the work done does not depend on which one is wrong.
  const okKey = sameText(apiKey, expected.apiKey);
  const okToken = sameText(authToken, expected.authToken);
  const okSignature = sameText(signature, expectedSignature);
  return okKey && okToken && okSignature;
}
