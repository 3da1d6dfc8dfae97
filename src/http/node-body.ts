// node:http requests: the request head, and reading the body with a byte cap and a read deadline.
import type { IncomingMessage } from 'node:http';
import { WebhookError } from '../wire/errors.js';
import { framedBody, type BodyLimits, type HttpRequestHead } from './request.js';
import { readDeadlines, type PendingRead, type ReadDeadlines } from './read-deadlines.js';

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

/** Reads one request body: its listeners are its own methods, bound once per read. */
class NodeBodyRead implements PendingRead {
  deadline = 0;
  earlier: PendingRead | undefined = undefined;
  later: PendingRead | undefined = undefined;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private done = false;
  private readonly onData = (chunk: Buffer | string): void => {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.received += buffer.length;
    if (this.received > this.limits.maxBodyBytes) {
      this.finish(new WebhookError('PAYLOAD_TOO_LARGE'));
      return;
    }
    this.chunks.push(buffer);
  };
  private readonly onEnd = (): void => this.finish(undefined);
  private readonly onAbort = (): void => this.finish(new WebhookError('REQUEST_TIMEOUT', { message: 'Request body was aborted' }));
  private readonly onClose = (): void => {
    if (!this.req.readableEnded) this.onAbort();
  };

  constructor(
    private readonly req: IncomingMessage,
    private readonly limits: BodyLimits,
    private readonly deadlines: ReadDeadlines,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: WebhookError) => void,
  ) {}

  start(): void {
    const req = this.req;
    this.deadlines.watch(this);
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onAbort);
    req.on('close', this.onClose);
  }

  expire(): void {
    this.finish(new WebhookError('REQUEST_TIMEOUT'));
  }

  private finish(error: WebhookError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.deadlines.forget(this);
    if (error === undefined) {
      // The stream ended: no 'data' or 'end' can follow, and a later 'error' or 'close' finds
      // the read done. So the listeners stay (inert) and go with the request.
      const chunks = this.chunks;
      this.resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.received));
      return;
    }
    // A failed read stops listening, so the rest of the body is neither counted nor kept.
    const req = this.req;
    req.off('data', this.onData);
    req.off('end', this.onEnd);
    req.off('error', this.onAbort);
    req.off('close', this.onClose);
    this.chunks.length = 0;
    this.reject(error);
  }
}

/**
 * Reads an unread node:http request stream with a byte cap and a deadline, holding at most
 * `maxBodyBytes`. A declared Content-Length over the cap is refused before reading. On any
 * failure the listeners are removed and the rest of the body is left to be discarded.
 * Rejects with PAYLOAD_TOO_LARGE or REQUEST_TIMEOUT (the deadline is checked by a shared
 * coarse timer: it fires within an eighth of `readTimeoutMs` after it passed).
 */
export function readNodeBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
    return Promise.reject(new WebhookError('PAYLOAD_TOO_LARGE'));
  }
  const deadlines = readDeadlines(limits.readTimeoutMs);
  return new Promise<Buffer>((resolve, reject) => {
    new NodeBodyRead(req, limits, deadlines, resolve, reject).start();
  });
}

/** True when a body parser read the request already: its result (or nothing) is on `req.body`. */
export function nodeBodyParsed(req: NodeRequest): boolean {
  // oxlint-disable-next-line no-underscore-dangle -- body-parser's public-by-convention flag
  const consumed = req._body === true || req.readableEnded;
  return consumed || (req.body !== undefined && !req.readable);
}

/**
 * The body of a node:http request in whatever state it arrives: a value a body parser left on
 * `req.body` (parsed object, Buffer or string; its Content-Length held to `maxBodyBytes`), given
 * at once, or the unread stream, read here with the cap and deadline (a promise). `undefined`
 * when there is no body. A parsed body that breaks a limit throws its `WebhookError`.
 */
export function nodeRequestBody(req: NodeRequest, limits: BodyLimits): unknown {
  if (nodeBodyParsed(req)) return checkParsedBody(req, limits);
  const headers = req.headers;
  // announcesBody() for a node:http request, read from its headers without a head object.
  if (framedBody(headers['transfer-encoding'], headers['content-length']) !== true) return undefined;
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
