// The Fetch API adapter: one `(request: Request) => Promise<Response>` function for any runtime with Web-standard `Request`/`Response` (Next.js route handlers, Hono, Bun.serve, Deno.serve, workers with node:crypto).
import { answerBodyText, answerHeaderPairs, type HttpAnswer } from '../http/answer.js';
import { answerRequest, createHttpHandler, HTTP_HANDLER_OPTION_NAMES, type HttpHandlerOptions } from '../http/handler.js';
import { framedBody, type BodyLimits, type HttpRequestHead } from '../http/request.js';
import { checkFunction } from '../options/checks.js';
import { optionNames } from '../options/option-names.js';
import { readWebBody } from '../http/web-body.js';
import type { PayloadSchemas } from '../receiver/payload-schemas.js';

/** Options of {@link createFetchHandler}: the shared adapter options plus `getClientIp`. `TSchemas` types `onEvent`'s event. */
export interface FetchHandlerOptions<TSchemas extends PayloadSchemas = {}> extends HttpHandlerOptions<Request, TSchemas> {
  /**
   * Handles the event; the handler answers `200 {"received":true}` once it resolves, 500
   * HANDLER_FAILED if it throws. Required unless `inbox` is set: a `Response` must be returned,
   * so there is no pass-through mode.
   */
  onEvent?: HttpHandlerOptions<Request, TSchemas>['onEvent'];
  /**
   * The client address, since a `Request` carries none: for example
   * `(req) => req.headers.get('x-forwarded-for')?.split(',')[0]?.trim()` behind a proxy you
   * trust, or the runtime's own (`server.requestIP(req)?.address` in Bun). Default: unknown.
   */
  getClientIp?: (request: Request) => string | undefined;
}

/** A Fetch API request handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

const FETCH_OPTION_NAMES: readonly string[] = [
  ...HTTP_HANDLER_OPTION_NAMES,
  ...optionNames<Omit<FetchHandlerOptions, keyof HttpHandlerOptions<Request>>>({ getClientIp: true }),
];

/**
 * The {@link HttpRequestHead} of a Fetch `Request`. Whether it has a body is decided from the
 * framing headers (each `Headers` call is a lookup with its own checks, so they are read only
 * when asked): a Transfer-Encoding, or a Content-Length other than 0. HTTP/2 and hand-built
 * Requests may carry a body with neither, so without them `request.body` decides.
 */
class FetchRequestHead implements HttpRequestHead {
  readonly method: string;
  private readonly headers: Headers;
  constructor(
    private readonly request: Request,
    readonly ip: string | undefined,
  ) {
    this.method = request.method;
    this.headers = request.headers;
  }
  header(name: string): string | undefined {
    return this.headers.get(name) ?? undefined;
  }
  /** Read only when asked: the head checks ask only for a request whose Content-Type is not JSON. */
  get hasBody(): boolean {
    const headers = this.headers;
    return framedBody(headers.get('transfer-encoding'), headers.get('content-length')) ?? this.request.body !== null;
  }
}

/** Reads a `Request`'s body with the cap and deadline. */
function readFetchBody(limits: BodyLimits, request: Request): Promise<Uint8Array | undefined> {
  return readWebBody(request.body, request.headers.get('content-length'), limits);
}

/** Turns an answer into a `Response`; hop-by-hop headers are left to the runtime. */
function answerToResponse(answer: HttpAnswer): Response {
  return new Response(answerBodyText(answer), { status: answer.status, headers: answerHeaderPairs(answer, false) });
}

/**
 * Creates a Fetch API handler that receives Kompliant webhooks: checks method and content
 * type, reads `request.body` with `maxBodyBytes` and `readTimeoutMs`, validates, resolves the
 * key, decrypts, awaits `onEvent(event, request)` and answers `200 {"received":true}`.
 * Failures answer the spec's status with `{"error":{"code","message"}}`. Options are checked
 * here, once: a bad or unknown option throws a `TypeError` naming it.
 *
 * @example
 * ```ts
 * // app/api/webhooks/kompliant/route.ts (Next.js app router)
 * import { createFetchHandler } from 'kompliant-webhooks/fetch';
 * import { memoryKeyStore } from 'kompliant-webhooks';
 *
 * export const POST = createFetchHandler({
 *   keyStore: memoryKeyStore({ whk_20251121_01: process.env.KOMPLIANT_WEBHOOK_SECRET! }),
 *   async onEvent(event) {
 *     await jobs.enqueue(event.event_type, event.data);
 *   },
 * });
 * ```
 */
export function createFetchHandler<TSchemas extends PayloadSchemas = {}>(options: FetchHandlerOptions<TSchemas>): FetchHandler {
  if (typeof options === 'object' && options !== null && options.onEvent === undefined && options.inbox === undefined) {
    throw new TypeError('createFetchHandler: onEvent is required, or inbox (a Fetch handler must return a Response)');
  }
  const handler = createHttpHandler<Request, TSchemas>(options, 'createFetchHandler', FETCH_OPTION_NAMES);
  const getClientIp = checkFunction<(request: Request) => string | undefined>(options.getClientIp, 'getClientIp');

  const makeHead = (request: Request): HttpRequestHead => new FetchRequestHead(request, getClientIp?.(request));
  return async function kompliantFetchHandler(request: Request): Promise<Response> {
    return answerToResponse(await answerRequest(handler, makeHead, readFetchBody, request));
  };
}
