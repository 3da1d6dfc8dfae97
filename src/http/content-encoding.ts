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
  return bytes[0] === 0x1f && bytes[1] === 0x8b; // past the end is undefined: no length check needed
}

function isZlib(bytes: Uint8Array): boolean {
  const [cmf = 0, flg = 0] = bytes;
  return bytes.length >= 2 && (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

/**
 * Inflates a gzip or deflate (zlib) body, refusing to produce more than `maxBytes`: a zip bomb
 * ends as 413 PAYLOAD_TOO_LARGE without ever holding more than the cap. `decodedByParser` says a
 * body parser (`express.json()`, `express.raw()`, Fastify's parser) read the body and undid its
 * coding already: a body that is not compressed bytes is then returned unchanged. Otherwise the
 * body is the bytes as sent, so they must be what the coding says. Corrupt compressed data, or a
 * body read as sent that is not gzip / zlib data, is 400 INVALID_JSON.
 */
export async function inflateBody(body: unknown, coding: string, maxBytes: number, decodedByParser: boolean): Promise<unknown> {
  if (body === undefined) return body;
  const gzip = coding !== 'deflate';
  if (!(body instanceof Uint8Array) || (gzip ? !isGzip(body) : !isZlib(body))) {
    if (decodedByParser) return body;
    throw new WebhookError('INVALID_JSON', { message: `Request body is not ${gzip ? 'gzip' : 'deflate'} data as its Content-Encoding says` });
  }
  try {
    return await (gzip ? gunzipAsync : inflateAsync)(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new WebhookError('PAYLOAD_TOO_LARGE');
    throw new WebhookError('INVALID_JSON', { message: 'Request body could not be decompressed' });
  }
}
