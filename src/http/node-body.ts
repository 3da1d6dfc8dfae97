// node:http requests: the request head, and reading the body with a byte cap and a read deadline.
import type { IncomingMessage } from 'node:http';
import { WebhookError } from '../wire/errors.js';
import { announcesBody, type BodyLimits, type HttpRequestHead } from './handler.js';

/** A node:http request, possibly after a body parser (Express, Connect) ran. */
export type NodeRequest = IncomingMessage & {
  /** Set by a body parser (`express.json()`, `express.raw()`, `express.text()`) if one ran. */
  body?: unknown;
  /** body-parser's flag: the stream was consumed and `body` holds the result. */
  _body?: boolean;
};

/** A header of a node:http request by lower-case name, repeated values joined with `,`. */
export function nodeHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The {@link HttpRequestHead} of a node:http request. */
export function nodeRequestHead(req: IncomingMessage): HttpRequestHead {
  return { method: req.method, header: (name) => nodeHeader(req, name) };
}

/**
 * Reads an unread node:http request stream with a byte cap and a deadline, holding at most
 * `maxBodyBytes`. A declared Content-Length over the cap is refused before reading. On any
 * failure the listeners are removed and the rest of the body is left to be discarded.
 * Rejects with PAYLOAD_TOO_LARGE or REQUEST_TIMEOUT.
 */
export function readNodeBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = nodeHeader(req, 'content-length');
  if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
    return Promise.reject(new WebhookError('PAYLOAD_TOO_LARGE'));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (error: WebhookError | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      if (error === undefined) {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
      } else {
        chunks.length = 0;
        reject(error);
      }
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += buffer.length;
      if (received > limits.maxBodyBytes) {
        finish(new WebhookError('PAYLOAD_TOO_LARGE'));
        return;
      }
      chunks.push(buffer);
    };
    const onEnd = (): void => finish(undefined);
    const onAbort = (): void => finish(new WebhookError('REQUEST_TIMEOUT', { message: 'Request body was aborted' }));
    const onClose = (): void => {
      if (!req.readableEnded) onAbort();
    };
    const timer = setTimeout(() => finish(new WebhookError('REQUEST_TIMEOUT')), limits.readTimeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

/**
 * The body of a node:http request in whatever state it arrives: a value a body parser left on
 * `req.body` (parsed object, Buffer or string; its Content-Length held to `maxBodyBytes`), or the
 * unread stream, read here with the cap and deadline. `undefined` when there is no body.
 */
export async function nodeRequestBody(req: NodeRequest, limits: BodyLimits): Promise<unknown> {
  // oxlint-disable-next-line no-underscore-dangle -- body-parser's public-by-convention flag
  const consumed = req._body === true || req.readableEnded;
  if (consumed || (req.body !== undefined && !req.readable)) return checkParsedBody(req, limits);
  if (!announcesBody(nodeRequestHead(req))) return undefined;
  return readNodeBody(req, limits);
}

/**
 * A body a parser in front already read: the parser's limit applied, not `maxBodyBytes`, so the
 * declared Content-Length is held to `maxBodyBytes` here (413); a Buffer or string shorter than
 * its Content-Length was cut short on the way (400). Only for bodies sent without a content
 * coding, where Content-Length is the body's size. A parsed object's size is not known.
 */
function checkParsedBody(req: NodeRequest, limits: BodyLimits): unknown {
  const declared = nodeHeader(req, 'content-length');
  const coding = nodeHeader(req, 'content-encoding');
  if (declared === undefined || (coding !== undefined && coding.trim().toLowerCase() !== 'identity')) return req.body;
  const length = Number(declared);
  if (length > limits.maxBodyBytes) {
    throw new WebhookError('PAYLOAD_TOO_LARGE', { message: 'Request body is too large (Content-Length over maxBodyBytes; read by a body parser in front)' });
  }
  const body = req.body;
  const got = typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : undefined;
  if (got !== undefined && got < length) {
    throw new WebhookError('INVALID_JSON', { message: 'Request body is shorter than its Content-Length (cut short before this middleware)' });
  }
  return body;
}
