import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import { kompliantFastify, kompliantPreHandler } from '../../src/fastify.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const secret = generateSharedSecret();
const keyStore = memoryKeyStore({ whk_20251121_01: secret });
const envelope = () => createTestWebhook({ secret, keyId: 'whk_20251121_01' });

describe('kompliantPreHandler on a route of your own (Fastify JSON parser in place)', () => {
  it('sets request.kompliantEvent from the parsed body and lets the route answer', async () => {
    const app = Fastify();
    const seen = vi.fn();
    app.post('/hooks', { preHandler: kompliantPreHandler({ keyStore }) }, async (request, reply) => {
      seen(typeof request.body, request.kompliantEvent);
      return reply.code(202).send({ queued: request.kompliantEvent?.id });
    });
    const sent = envelope();
    const res = await app.inject({ method: 'POST', url: '/hooks', payload: sent });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ queued: sent.id });
    expect(seen).toHaveBeenCalledWith('object', expect.objectContaining({ id: sent.id, key_id: 'whk_20251121_01' }));
  });

  it('settles a passed event with the route\'s final status: a failure reaches onError once', async () => {
    const app = Fastify();
    const onError = vi.fn();
    app.post('/hooks', { preHandler: kompliantPreHandler({ keyStore, onError }) }, async (_request, reply) =>
      reply.code(503).send({ busy: true }),
    );
    const res = await app.inject({ method: 'POST', url: '/hooks', payload: envelope() });
    expect(res.statusCode).toBe(503);
    expect(onError).toHaveBeenCalledOnce();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: 'HANDLER_FAILED' }), expect.objectContaining({ kompliantEvent: expect.any(Object) }));
  });

  it('answers failures itself; the route handler never runs', async () => {
    const app = Fastify();
    const route = vi.fn();
    app.post('/hooks', { preHandler: kompliantPreHandler({ keyStore }) }, route);
    const res = await app.inject({ method: 'POST', url: '/hooks', payload: { ...envelope(), key_id: 'whk_20991231_01' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: { code: 'UNKNOWN_KEY', message: expect.any(String) } });
    expect(route).not.toHaveBeenCalled();
  });

  it('answers 200 itself with onEvent', async () => {
    const app = Fastify();
    const onEvent = vi.fn();
    app.post('/hooks', { preHandler: kompliantPreHandler({ keyStore, onEvent }) }, vi.fn());
    const res = await app.inject({ method: 'POST', url: '/hooks', payload: envelope() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true });
    expect(onEvent).toHaveBeenCalledOnce();
  });

  it('throws a TypeError naming an unknown option', () => {
    expect(() => kompliantPreHandler({ keyStore, readTimeoutMs: 5 } as never)).toThrowError(/unknown option "readTimeoutMs"/);
  });
});

describe('kompliantFastify plugin', () => {
  it('serves at `path` inside the prefix and leaves the rest of the app alone', async () => {
    const app = Fastify();
    app.post('/other', async () => ({ other: true }));
    await app.register(kompliantFastify, { prefix: '/webhooks', path: '/kompliant', keyStore, onEvent() {} });
    expect((await app.inject({ method: 'POST', url: '/webhooks/kompliant', payload: envelope() })).statusCode).toBe(200);
    // The plugin's error handler is encapsulated: a text body elsewhere keeps Fastify's own behaviour.
    const other = await app.inject({ method: 'POST', url: '/other', payload: 'x', headers: { 'content-type': 'application/xml' } });
    expect(other.statusCode).toBe(415);
    expect(other.json().code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
  });

  it('answers an unparseable content type with this library\'s 415', async () => {
    const app = Fastify();
    await app.register(kompliantFastify, { prefix: '/hooks', keyStore, onEvent() {} });
    const res = await app.inject({ method: 'POST', url: '/hooks', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('parses the body in its own scope: a __proto__ key is an ignored unknown field, as in Express; the app keeps its parsers', async () => {
    const app = Fastify();
    const onEvent = vi.fn();
    await app.register(kompliantFastify, { prefix: '/hooks', keyStore, onEvent });
    app.post('/other', (request, reply) => reply.send({ got: request.body }));
    const text = JSON.stringify(envelope());
    const payload = `${text.slice(0, -1)},"__proto__":{"polluted":true}}`;
    const res = await app.inject({ method: 'POST', url: '/hooks', payload, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(200);
    expect(onEvent).toHaveBeenCalledTimes(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Outside the plugin, the application's JSON parser and its onProtoPoisoning setting still apply.
    const other = await app.inject({ method: 'POST', url: '/other', payload: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(other.json()).toEqual({ got: { a: 1 } });
    const poisoned = await app.inject({ method: 'POST', url: '/other', payload: '{"__proto__":{}}', headers: { 'content-type': 'application/json' } });
    expect(poisoned.statusCode).toBe(400);
  });

  it.each([
    ['both onEvent and handler', { keyStore, onEvent() {}, handler() {} }, /exactly one of onEvent and handler/],
    ['neither onEvent nor handler', { keyStore }, /exactly one of onEvent and handler/],
    ['an unknown option', { keyStore, onEvent() {}, onEvnt() {} }, /unknown option "onEvnt"/],
    ['readTimeoutMs (Fastify reads the body)', { keyStore, onEvent() {}, readTimeoutMs: 5 }, /unknown option "readTimeoutMs"/],
    ['a relative path', { keyStore, onEvent() {}, path: 'hooks' }, /path must be/],
  ])('fails ready() with a TypeError for %s', async (_name, options, message) => {
    const app = Fastify();
    app.register(kompliantFastify, options as never);
    await expect(app.ready()).rejects.toThrowError(message);
  });
});
