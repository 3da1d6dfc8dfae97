// What an HTTP adapter hands the handler: the request head, and the limits its body reader keeps.
import { WebhookError } from '../wire/errors.js';
import { checkContentEncoding } from './content-encoding.js';

/** Limits for reading a request body. */
export interface BodyLimits {
  /** Largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** Deadline for the whole body, in milliseconds. */
  readTimeoutMs: number;
}

/** What an adapter knows about the request before reading the body. */
export interface HttpRequestHead {
  method: string | undefined;
  /** A header by lower-case name; repeated headers joined with `,`. */
  header(name: string): string | undefined;
  /** The client address as the framework sees it (Express `req.ip`, so `trust proxy` decides). */
  ip?: string | undefined;
  /**
   * Whether the request carries a body, for runtimes that know it without framing headers
   * (a Fetch `Request` over HTTP/2, a Lambda event). When unset, Content-Length and
   * Transfer-Encoding decide.
   */
  hasBody?: boolean | undefined;
  /**
   * True when a body parser already read the body and undid its `Content-Encoding`
   * (`express.json()`, `express.raw()`, Fastify's parser). When unset, the body handed over is
   * the bytes as sent, and a coding that does not describe them is 400 INVALID_JSON. Read
   * before the body is read, and only when the request has a content coding.
   */
  readonly bodyDecoded?: boolean | undefined;
}

/**
 * True for `application/json` and `application/*+json`, with any parameters, as long as a
 * `charset` parameter (if any) is UTF-8: the envelope is UTF-8 JSON.
 */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  if (contentType === 'application/json') return true; // what Kompliant and most clients send
  const [type = '', ...params] = contentType.toLowerCase().split(';');
  const mediaType = type.trim();
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType)) return false;
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim() === 'charset' && !['utf-8', 'utf8', '"utf-8"'].includes(value.trim())) return false;
  }
  return true;
}

/**
 * What the framing headers say about a body: `true` for any Transfer-Encoding or a
 * Content-Length other than 0, `false` for a Content-Length of 0, `undefined` when neither is
 * sent. Takes the values as each runtime gives them (`undefined` from node:http, `null` from
 * Fetch `Headers`).
 */
export function framedBody(transferEncoding: string | null | undefined, contentLength: string | null | undefined): boolean | undefined {
  if (transferEncoding !== undefined && transferEncoding !== null) return true;
  if (contentLength === undefined || contentLength === null) return undefined;
  return contentLength.trim() !== '0';
}

/** True when the request announces a body (`hasBody`, else its framing headers: see {@link framedBody}). */
export function announcesBody(head: HttpRequestHead): boolean {
  if (head.hasBody !== undefined) return head.hasBody;
  return framedBody(head.header('transfer-encoding'), head.header('content-length')) === true;
}

/** Checks method, content coding and content type before the body is read; returns the content coding to undo. */
export function checkHead(head: HttpRequestHead, allowedEncodings: readonly string[]): string | undefined {
  if (head.method !== 'POST') throw new WebhookError('METHOD_NOT_ALLOWED');
  const coding = checkContentEncoding(head.header('content-encoding'), allowedEncodings);
  // Content-Type first: a JSON request (nearly all) never needs its framing headers read here.
  if (!isJsonContentType(head.header('content-type')) && announcesBody(head)) {
    throw new WebhookError('UNSUPPORTED_MEDIA_TYPE');
  }
  return coding;
}
