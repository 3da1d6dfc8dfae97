// The Fastify adapter: a plugin that registers the webhook route, and a `preHandler` for routes of your own.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { WebhookError, type WebhookErrorCode } from '../wire/errors.js';
import type { KompliantEvent } from '../wire/event.js';
import { nodeRequestHead } from '../http/node-body.js';
import { answerBodyText, answerHeaderPairs, errorAnswer, type HttpAnswer } from '../http/answer.js';
import { createHttpHandler, HTTP_HANDLER_OPTION_NAMES, type HttpHandler, type HttpHandlerOptions } from '../http/handler.js';
import type { PayloadSchemas } from '../receiver/payload-schemas.js';
import { checkFunction } from '../options/checks.js';
import { optionNames, withoutNames } from '../options/option-names.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified, decrypted event, set by the kompliant-webhooks plugin or preHandler. */
    kompliantEvent?: KompliantEvent;
  }
}

/**
 * Options of {@link kompliantPreHandler}: `keyStore` (required), `aad`, `layout`, `maxBodyBytes`,
 * `onEvent`, `onError`; hooks receive the Fastify request. There is no `readTimeoutMs`:
 * Fastify reads the body (bound it with the server's `requestTimeout`).
 */
export type KompliantPreHandlerOptions<TSchemas extends PayloadSchemas = {}> = Omit<HttpHandlerOptions<FastifyRequest, TSchemas>, 'readTimeoutMs'>;

/**
 * Options of the {@link kompliantFastify} plugin: those of {@link kompliantPreHandler}, plus
 * `path` and, instead of `onEvent`, a route `handler` that reads `request.kompliantEvent`.
 */
export interface KompliantFastifyOptions extends KompliantPreHandlerOptions {
  /** The route's path inside the plugin's prefix. Default `'/'`. */
  path?: string;
  /**
   * Pass-through mode (when `onEvent` is not set): a Fastify route handler that runs after
   * the event was verified, with `request.kompliantEvent` set. Its reply is the answer; a
   * throw answers 500 HANDLER_FAILED. Exactly one of `onEvent` and `handler` is required.
   */
  handler?: RouteHandlerMethod;
}

/** A Fastify `preHandler` hook. */
export type KompliantPreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

// Every shared adapter option except the read deadline: Fastify reads the body.
const PRE_HANDLER_OPTION_NAMES: readonly string[] = withoutNames(HTTP_HANDLER_OPTION_NAMES, 'readTimeoutMs');
const PLUGIN_OPTION_NAMES: readonly string[] = [
  ...PRE_HANDLER_OPTION_NAMES,
  ...optionNames<Omit<KompliantFastifyOptions, keyof KompliantPreHandlerOptions>>({ path: true, handler: true }),
];
/** Options Fastify's `register` itself reads and leaves in the plugin's options. */
const REGISTER_OPTION_NAMES: readonly string[] = ['prefix', 'logLevel', 'logSerializers'];

/** Fastify's body-parsing errors, answered as the codes the other adapters give for the same request. */
const FASTIFY_BODY_ERRORS = new Map<string, WebhookErrorCode>([
  ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE'],
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'PAYLOAD_TOO_LARGE'],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'INVALID_JSON'],
  ['FST_ERR_CTP_EMPTY_JSON_BODY', 'INVALID_JSON'],
  ['FST_ERR_CTP_INVALID_JSON_BODY', 'INVALID_JSON'],
]);

function bodyErrorCode(error: unknown): WebhookErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FASTIFY_BODY_ERRORS.has(code)) return FASTIFY_BODY_ERRORS.get(code);
  // Fastify's JSON parser (secure-json-parse) throws a plain SyntaxError with status 400.
  if (error instanceof SyntaxError && (error as { statusCode?: unknown }).statusCode === 400) return 'INVALID_JSON';
  return undefined;
}

/**
 * The plugin's content-type parser, for every media type inside the plugin's own scope: the body
 * as the bytes sent (up to the route's `bodyLimit`), so the shared handler checks the media
 * type, undoes the content coding under `maxBodyBytes` and parses the JSON exactly as the other
 * adapters do: a top-level `__proto__` or `constructor` key is an ignored unknown field, not a 400
 * from Fastify's poisoning checks, and never reaches a prototype.
 */
function keepBodyBytes(_request: FastifyRequest, body: Buffer, done: (error: Error | null, body?: unknown) => void): void {
  done(null, body);
}

function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(Object.fromEntries(answerHeaderPairs(answer, false))).send(answerBodyText(answer));
}

/** The body Fastify's parser produced. */
function readParsedBody(_limits: unknown, request: FastifyRequest): unknown {
  return request.body;
}

/**
 * The preHandler over `handler`. `bodyDecoded`: whether the route's parser undid the content
 * coding (a parser of your own in front of {@link kompliantPreHandler}), or kept the bytes as
 * sent (the plugin's own parser).
 */
function preHandlerFor(handler: HttpHandler<FastifyRequest>, bodyDecoded: boolean): KompliantPreHandler {
  return async function kompliantWebhookPreHandler(request, reply) {
    const result = await handler.handle(
      { ...nodeRequestHead(request.raw), ip: request.ip, bodyDecoded },
      readParsedBody,
      request,
    );
    if (result.kind === 'answer') return sendAnswer(reply, result.answer);
    request.kompliantEvent = result.event;
    const { settle } = result;
    reply.raw.once('finish', () => settle(reply.raw.statusCode));
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) settle(500);
    });
    return undefined;
  };
}

/**
 * A Fastify `preHandler` for a route of your own: verifies and decrypts the webhook from the
 * body Fastify parsed (Fastify's JSON parser in place). With `onEvent`, it answers
 * `200 {"received":true}` itself; without, it sets `request.kompliantEvent` and lets your
 * route handler answer (its final status settles the event). Failures answer the spec's
 * status with `{"error":{"code","message"}}`. Errors Fastify raises while parsing the body
 * (415, 413, malformed JSON) happen before any preHandler and keep Fastify's format here: use
 * the {@link kompliantFastify} plugin to have them answered like every other adapter.
 *
 * @example
 * ```ts
 * app.post('/webhooks/kompliant', { preHandler: kompliantPreHandler({ keyStore }) }, async (request) => {
 *   await jobs.enqueue(request.kompliantEvent!);
 *   return { received: true };
 * });
 * ```
 */
export function kompliantPreHandler<TSchemas extends PayloadSchemas = {}>(options: KompliantPreHandlerOptions<TSchemas>): KompliantPreHandler {
  return preHandlerFor(createHttpHandler<FastifyRequest, TSchemas>(options, 'kompliantPreHandler', PRE_HANDLER_OPTION_NAMES), true);
}

/**
 * The Fastify plugin: registers the webhook route (all methods, so a GET answers 405 like the
 * other adapters) at `path` inside the plugin's prefix, with the route's `bodyLimit` set to
 * `maxBodyBytes` and an error handler that answers Fastify's body-parsing errors with this
 * library's codes. Either `onEvent` handles the event (answered 200 once it resolves), or
 * your `handler` runs with `request.kompliantEvent` set. Bad options reject `register`, so
 * `ready()` / `listen()` fail before the server accepts a request.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { kompliantFastify } from 'kompliant-webhooks/fastify';
 *
 * const app = Fastify();
 * await app.register(kompliantFastify, {
 *   prefix: '/webhooks/kompliant',
 *   keyStore,
 *   async onEvent(event) {
 *     await jobs.enqueue(event.event_type, event.data);
 *   },
 * });
 * ```
 */
export async function kompliantFastify(fastify: FastifyInstance, registerOptions: KompliantFastifyOptions): Promise<void> {
  if (typeof registerOptions !== 'object' || registerOptions === null) throw new TypeError('kompliantFastify: options must be an object');
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(registerOptions)) {
    if (!REGISTER_OPTION_NAMES.includes(name)) options[name] = value;
  }
  const { path = '/', handler: routeHandler, ...handlerOptions } = options as unknown as KompliantFastifyOptions;
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError('path must be a string starting with "/"');
  const handler = createHttpHandler<FastifyRequest>(
    { ...handlerOptions },
    'kompliantFastify',
    PLUGIN_OPTION_NAMES,
  );
  const passTo = checkFunction<RouteHandlerMethod>(routeHandler, 'handler');
  if (handler.handlesEvents === (passTo !== undefined)) {
    throw new TypeError('kompliantFastify: set exactly one of onEvent and handler');
  }

  fastify.decorateRequest('kompliantEvent', undefined);
  // The plugin's scope is its own (registered without fastify-plugin): these parsers replace
  // the application's only here.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, keepBodyBytes);
  fastify.setErrorHandler(async (error, request, reply) => {
    const code = bodyErrorCode(error);
    if (code !== undefined) {
      // Through the shared handler, so head checks and onError run as in every adapter.
      const result = await handler.handle(
        { ...nodeRequestHead(request.raw), ip: request.ip },
        () => {
          throw new WebhookError(code);
        },
        request,
      );
      if (result.kind === 'answer') return sendAnswer(reply, result.answer);
    }
    const failure = new WebhookError('HANDLER_FAILED', { cause: error });
    // A passed request is settled by its final status, which reports the failure; report the rest here.
    if (request.kompliantEvent === undefined) handler.notifyError(failure, request);
    return sendAnswer(reply, errorAnswer(failure));
  });
  fastify.all(
    path,
    { bodyLimit: handler.limits.maxBodyBytes, preHandler: preHandlerFor(handler, false) },
    passTo ?? (async (_request, reply) => reply),
  );
}
