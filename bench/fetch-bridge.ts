/**
 * A minimal node:http -> Fetch bridge for the HTTP bench: what a Node host of a Fetch handler
 * (`@hono/node-server`, Next.js' standalone server) does per request. The request becomes a
 * `Request` whose body is the node stream as a Web `ReadableStream`; the `Response` is written
 * back with its status, headers and body bytes.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** A Fetch API handler, e.g. `createFetchHandler(...)` from `kompliant-webhooks/fetch`. */
export type FetchListener = (request: Request) => Promise<Response>;

/** The Web `Request` of a node:http request; the body is streamed, not buffered here. */
export function toWebRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : null,
    // Required by undici for a streamed request body.
    duplex: 'half',
  } as RequestInit);
}

/** Writes a Web `Response` to a node:http response. */
export async function writeWebResponse(response: Response, res: ServerResponse): Promise<void> {
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(body);
}

/** Serves a Fetch handler from node:http; a rejection answers 500 with no body. */
export function fetchToNodeListener(handler: FetchListener): RequestListener {
  return (req, res) => {
    handler(toWebRequest(req))
      .then((response) => writeWebResponse(response, res))
      .catch(() => {
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
  };
}
