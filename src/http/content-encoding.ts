// Content-Encoding handling for bodies the receiver reads itself: which codings are accepted, and inflating them under the size cap.
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { WebhookError } from '../wire/errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** The `Content-Encoding` values the receiver can inflate. */
export const SUPPORTED_CONTENT_ENCODINGS: readonly string[] = ['gzip', 'x-gzip', 'deflate'];

/**
 * The request's content coding, lower-cased: `undefined` for none or `identity`. Throws 415
 * UNSUPPORTED_MEDIA_TYPE for stacked codings and any coding not allowed.
 */
export function checkContentEncoding(header: string | undefined, allowed: readonly string[]): string | undefined {
  if (header === undefined) return undefined;
  const coding = header.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return undefined;
  if (!allowed.includes(coding)) {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE', { message: 'Content-Encoding is not supported' });
  }
  return coding;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function isZlib(bytes: Uint8Array): boolean {
  const [cmf = 0, flg = 0] = bytes;
  return bytes.length >= 2 && (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

/**
 * Inflates a gzip or deflate (zlib) body, refusing to produce more than `maxBytes`: a zip bomb
 * ends as 413 PAYLOAD_TOO_LARGE without ever holding more than the cap. A body that is not
 * compressed bytes (already decoded by a body parser such as `express.json()` or
 * `express.raw()`, which inflate themselves) is returned unchanged. Corrupt compressed data is
 * 400 INVALID_JSON.
 */
export async function inflateBody(body: unknown, coding: string | undefined, maxBytes: number): Promise<unknown> {
  if (coding === undefined || !(body instanceof Uint8Array)) return body;
  const gzip = coding !== 'deflate';
  if (gzip ? !isGzip(body) : !isZlib(body)) return body;
  try {
    return await (gzip ? gunzipAsync : inflateAsync)(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new WebhookError('PAYLOAD_TOO_LARGE');
    throw new WebhookError('INVALID_JSON', { message: 'Request body could not be decompressed' });
  }
}
