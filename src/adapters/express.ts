// The Express/Connect/node:http adapter: `kompliantWebhook(options)` middleware.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KompliantEvent } from '../wire/event.js';
import { nodeBodyParsed, nodeHeader, nodeRequestBody, type NodeRequest } from '../http/node-body.js';
import { errorAnswer } from '../http/answer.js';
import { createHttpHandler, type HttpHandlerOptions, type HttpHandlerResult } from '../http/handler.js';
import type { BodyLimits, HttpRequestHead } from '../http/request.js';
import { writeNodeAnswer } from '../http/node-answer.js';
import { WebhookError } from '../wire/errors.js';
import type { PayloadSchemas } from '../receiver/payload-schemas.js';

declare global {
  // Declaration merging into the global `Express` namespace that @types/express 4 and 5 both
  // read, so `req.kompliantEvent` is typed without this package depending on either.
  namespace Express {
    interface Request {
      /** The verified, decrypted event, set by `kompliantWebhook()` in pass-through mode. */
      kompliantEvent?: KompliantEvent;
    }
  }
}

/** A request as the middleware sees it, with the event attached on success. */
export type WebhookRequest = IncomingMessage & { body?: unknown; kompliantEvent?: KompliantEvent };

/**
 * Options of {@link kompliantWebhook}: `keyStore` (required), `aad`, `layout`, `maxBodyBytes`,
 * `readTimeoutMs`, `onEvent`, `onError`. Hooks receive the request.
 */
export type KompliantWebhookOptions<TRequest extends IncomingMessage = WebhookRequest, TSchemas extends PayloadSchemas = {}> = HttpHandlerOptions<
  TRequest,
  TSchemas
>;

/**
 * The middleware's shape: works with Express 4 and 5, Connect, and plain node:http (where
 * `next` may be omitted when `onEvent` is set). Typed structurally so no Express major is forced.
 */
export type KompliantWebhookMiddleware<TRequest extends IncomingMessage = WebhookRequest> = (
  req: TRequest,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/**
 * The head of an Express, Connect or node:http request. The client address is read only when
 * asked for (an `allowedIps` check): Express's `req.ip` getter runs proxy-addr each time.
 */
class ExpressRequestHead implements HttpRequestHead {
  readonly method: string | undefined;
  constructor(private readonly req: IncomingMessage) {
    this.method = req.method;
  }
  header(name: string): string | undefined {
    return nodeHeader(this.req, name);
  }
  get bodyDecoded(): boolean {
    return nodeBodyParsed(this.req as NodeRequest);
  }
  get ip(): string | undefined {
    return (this.req as { ip?: string }).ip ?? this.req.socket?.remoteAddress;
  }
}

/** The body as it arrives (see nodeRequestBody). */
function readExpressBody(limits: BodyLimits, req: IncomingMessage): unknown {
  return nodeRequestBody(req as NodeRequest, limits);
}

/** Answers, or hands the event on to `next()` (pass-through), once the handler has a result. */
function finishRequest(result: HttpHandlerResult, req: IncomingMessage, res: ServerResponse, next: ((error?: unknown) => void) | undefined): void {
  if (result.kind === 'answer') {
    writeNodeAnswer(res, result.answer);
    return;
  }
  if (next === undefined) {
    // Plain node:http without onEvent: nothing can take the event, so the sender must retry.
    result.settle(500, 'No onEvent handler and no next()');
    writeNodeAnswer(res, errorAnswer(new WebhookError('HANDLER_FAILED', { message: 'No onEvent handler and no next()' })));
    return;
  }
  (req as WebhookRequest).kompliantEvent = result.event;
  const { settle } = result;
  res.once('finish', () => settle(res.statusCode));
  res.once('close', () => {
    if (!res.writableFinished) settle(500);
  });
  next();
}

/**
 * Not a WebhookError: a bug or a throwing custom `aad` function. Express and Connect do not
 * catch rejections, so it goes to `next` explicitly; plain node:http answers 500.
 */
function unexpectedFailure(error: unknown, res: ServerResponse, next: ((error?: unknown) => void) | undefined): void {
  if (next) next(error);
  else writeNodeAnswer(res, errorAnswer(new WebhookError('HANDLER_FAILED', { message: 'Internal error' })));
}

/**
 * Express/Connect middleware that receives Kompliant webhooks: checks method and content type,
 * takes the body however it arrives (parsed by `express.json()`, a Buffer or string from
 * `express.raw()` / `express.text()`, or the unread stream, read with `maxBodyBytes` and
 * `readTimeoutMs`), validates the envelope, resolves the key, decrypts, and hands off:
 * with `onEvent`, awaits it and answers `200 {"received":true}`; without, sets
 * `req.kompliantEvent` and calls `next()`.
 *
 * Failures answer the spec's status with `{"error":{"code","message"}}` and never call
 * `next()`. Options are checked here, once: a bad option throws a `TypeError` naming it.
 *
 * Hooks get the request typed as `TRequest`: pass your framework's request type
 * (`kompliantWebhook<express.Request>(...)`) to use `req.ip` and the like. It is inferred when
 * the middleware is assigned to a typed constant (`const h: express.RequestHandler = ...`), not
 * inside `app.post(path, ...)`, whose overloads offer no single type to infer from.
 *
 * @example
 * ```ts
 * app.post('/webhooks/kompliant', kompliantWebhook<express.Request>({
 *   keyStore: memoryKeyStore({ whk_20251121_01: process.env.KOMPLIANT_WEBHOOK_SECRET! }),
 *   async onEvent(event, req) {
 *     await jobs.enqueue(event.event_type, event.data, req.ip);
 *   },
 * }));
 * ```
 */
export function kompliantWebhook<TRequest extends IncomingMessage = WebhookRequest, TSchemas extends PayloadSchemas = {}>(
  options: KompliantWebhookOptions<TRequest, TSchemas>,
): KompliantWebhookMiddleware<TRequest> {
  const handler = createHttpHandler<TRequest, TSchemas>(options, 'kompliantWebhook');

  return async function kompliantWebhookMiddleware(req, res, next): Promise<void> {
    let result: HttpHandlerResult;
    try {
      result = await handler.handle(new ExpressRequestHead(req), readExpressBody, req);
    } catch (error) {
      unexpectedFailure(error, res, next);
      return;
    }
    finishRequest(result, req, res, next);
  };
}
