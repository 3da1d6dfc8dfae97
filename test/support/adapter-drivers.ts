/** The adapter drivers: each builds an app through one adapter's public API and sends a TableRequest. */
import { expect } from 'vitest';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono } from 'hono';
import type { IncomingMessage } from 'node:http';
import request from 'supertest';
import { kompliantWebhook } from '../../src/index.js';
import { kompliantFastify } from '../../src/fastify.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createLambdaHandler, type LambdaHttpEvent } from '../../src/lambda.js';
import { WEBHOOK_PATH, type AdapterDriver, type TableRequest, type TableResponse } from './adapter-table.js';
import { restApiEvent, type EventRequest } from './lambda-events.js';

function headersOf(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers.entries()].map(([name, value]) => [name.toLowerCase(), value]));
}

async function fromResponse(res: Response): Promise<TableResponse> {
  return { status: res.status, headers: headersOf(res.headers), body: JSON.parse(await res.text()) };
}

function toRequest(req: TableRequest): Request {
  return new Request(`http://localhost${WEBHOOK_PATH}`, {
    method: req.method,
    headers: req.headers,
    ...(req.body === undefined ? {} : { body: req.body }),
  });
}

export const expressDriver: AdapterDriver = {
  name: 'Express (supertest, stream read)',
  async create(options) {
    const app = express();
    app.use(WEBHOOK_PATH, kompliantWebhook(options));
    return async (req) => {
      let test = request(app)[req.method.toLowerCase() as 'get' | 'post' | 'put'](WEBHOOK_PATH);
      for (const [name, value] of Object.entries(req.headers)) test = test.set(name, value);
      // superagent would JSON-serialise a Buffer under a JSON content type: send bytes as they are.
      if (req.body instanceof Uint8Array) test = test.serialize((bytes: unknown) => bytes as string);
      const res = req.body === undefined ? await test : await test.send(req.body instanceof Uint8Array ? Buffer.from(req.body) : req.body);
      return { status: res.status, headers: res.headers as Record<string, string>, body: JSON.parse(res.text) };
    };
  },
  isContext: (context) => typeof (context as IncomingMessage).method === 'string' && 'app' in (context as object),
};

export const fetchDriver: AdapterDriver = {
  name: 'Fetch (real Request/Response)',
  async create(options) {
    const handler = createFetchHandler(options);
    return async (req) => fromResponse(await handler(toRequest(req)));
  },
  isContext: (context) => context instanceof Request,
};

export const honoDriver: AdapterDriver = {
  name: 'Fetch in a Hono app',
  async create(options) {
    const handler = createFetchHandler(options);
    const app = new Hono();
    app.all(WEBHOOK_PATH, (c) => handler(c.req.raw));
    return async (req) => fromResponse(await app.fetch(toRequest(req)));
  },
  isContext: (context) => context instanceof Request,
};

async function injectInto(app: ReturnType<typeof Fastify>, req: TableRequest): Promise<TableResponse> {
  const res = await app.inject({
    method: req.method as 'GET',
    url: WEBHOOK_PATH,
    headers: req.headers,
    ...(req.body === undefined ? {} : { payload: req.body }),
  });
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body: res.json() };
}

const isFastifyRequest = (context: unknown): boolean =>
  typeof context === 'object' && context !== null && 'raw' in context && 'routeOptions' in context;

export const fastifyDriver: AdapterDriver = {
  name: 'Fastify plugin with onEvent (inject)',
  async create(options) {
    const app = Fastify();
    await app.register(kompliantFastify, { prefix: WEBHOOK_PATH, ...options });
    return (req) => injectInto(app, req);
  },
  isContext: isFastifyRequest,
};

export const fastifyPassDriver: AdapterDriver = {
  name: 'Fastify plugin, pass-through to a route handler (inject)',
  async create({ onEvent, ...options }) {
    const app = Fastify();
    await app.register(kompliantFastify, {
      prefix: WEBHOOK_PATH,
      ...options,
      async handler(req: FastifyRequest) {
        await onEvent(req.kompliantEvent!, req);
        return { received: true };
      },
    });
    return (req) => injectInto(app, req);
  },
  isContext: isFastifyRequest,
};

export function lambdaDriver(name: string, toEvent: (req: EventRequest) => LambdaHttpEvent, base64 = false): AdapterDriver {
  return {
    name,
    async create(options) {
      const handler = createLambdaHandler(options);
      return async (req) => {
        const headers = { ...req.headers };
        if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
        const result = await handler(toEvent({ method: req.method, headers, body: req.body, base64 }));
        expect(result.isBase64Encoded).toBe(false);
        expect(typeof result.body).toBe('string');
        return { status: result.statusCode, headers: result.headers, body: JSON.parse(result.body) };
      };
    },
    isContext: (context) => typeof context === 'object' && context !== null && 'requestContext' in context,
  };
}

/** REST APIs keep the client's casing: send `Content-Type`, as most HTTP clients do. */
export function restApiWithClientCasing(req: EventRequest): LambdaHttpEvent {
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()), value]),
  );
  return restApiEvent({ ...req, headers });
}

