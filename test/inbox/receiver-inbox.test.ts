// Inbox mode on every entry point: a verified envelope, still encrypted, is enqueued and answered 200;
// forged ones are refused at the door; a failing or hung inbox is a retryable answer.
import express from 'express';
import Fastify from 'fastify';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type Inbox } from '../../src/index.js';
import { kompliantFastify } from '../../src/fastify.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createLambdaHandler } from '../../src/lambda.js';
import { inboxJobId } from '../../src/inbox/inbox.js';
import { createTestWebhook, generateSharedSecret, memoryInbox } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';
import { restApiEvent } from '../support/lambda-events.js';

const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });

function expressApp(inbox: Inbox, extra: object = {}) {
  const app = express();
  app.post(PATH, kompliantWebhook({ keyStore, inbox, ...extra }));
  return app;
}

describe('inbox mode', () => {
  it('answers 200 once the inbox holds the envelope exactly as sent, and one job per event id', async () => {
    const inbox = memoryInbox();
    const app = expressApp(inbox);
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET, eventType: 'WORKFLOW_COMPLETED' });
    await request(app).post(PATH).send(envelope).expect(200, { received: true });
    await request(app).post(PATH).send({ ...envelope, retry_count: 1 }).expect(200);
    expect(inbox.jobs).toHaveLength(1);
    const [job] = inbox.jobs;
    expect(job?.envelope).toEqual({ ...envelope, retry_count: 0 });
    expect(job).toMatchObject({ accountId: envelope.account_id, eventId: envelope.id, eventType: 'WORKFLOW_COMPLETED', keyId: KEY_ID });
    expect(JSON.stringify(job)).not.toContain('subject_record_id');
  });

  it('passes the job id and the decrypted subject to the engine, never the plaintext', async () => {
    const seen: unknown[] = [];
    const inbox: Inbox = {
      enqueue: (envelope, meta) => {
        seen.push({ envelope, meta });
        return Promise.resolve();
      },
    };
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    await request(expressApp(inbox)).post(PATH).send(envelope).expect(200);
    const [{ meta, envelope: sent }] = seen as [{ meta: { jobId: string; subjectRecordId: string }; envelope: { data: string } }];
    expect(meta.jobId).toBe(inboxJobId(envelope.account_id, envelope.id));
    expect(meta.subjectRecordId).toMatch(/^sr_/);
    expect(sent.data).toBe(envelope.data);
  });

  it('refuses forged and unknown-key envelopes before the inbox', async () => {
    const inbox = memoryInbox();
    const app = expressApp(inbox);
    const forged = createTestWebhook({ keyId: KEY_ID, secret: generateSharedSecret() });
    await request(app).post(PATH).send(forged).expect(401);
    await request(app).post(PATH).send(createTestWebhook({ keyId: 'whk_20240101_01', secret: SECRET })).expect(401);
    expect(inbox.jobs).toHaveLength(0);
  });

  it('answers 500 HANDLER_FAILED when the inbox fails, and 503 HANDLER_TIMEOUT when it does not answer in time', async () => {
    const inbox = memoryInbox();
    inbox.failing = true;
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    const failed = await request(expressApp(inbox, { logger: false })).post(PATH).send(envelope).expect(500);
    expect(failed.body.error.code).toBe('HANDLER_FAILED');
    const hung: Inbox = { enqueue: () => new Promise(() => undefined) };
    const timedOut = await request(expressApp(hung, { logger: false, handlerTimeoutMs: 50 })).post(PATH).send(envelope).expect(503);
    expect(timedOut.body.error.code).toBe('HANDLER_TIMEOUT');
  });

  it('is refused with onEvent, and needs an enqueue method', () => {
    expect(() => kompliantWebhook({ keyStore, inbox: memoryInbox(), onEvent: () => undefined })).toThrow(/inbox and onEvent/);
    expect(() => kompliantWebhook({ keyStore, inbox: {} as Inbox })).toThrow(/inbox must be an object with an enqueue/);
  });

  it('works on the Fetch, Lambda and Fastify entry points', async () => {
    const envelope = createTestWebhook({ keyId: KEY_ID, secret: SECRET });
    const body = JSON.stringify(envelope);

    const fetchInbox = memoryInbox();
    const fetchHandler = createFetchHandler({ keyStore, inbox: fetchInbox });
    const response = await fetchHandler(new Request(`http://localhost${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    expect(response.status).toBe(200);
    expect(fetchInbox.jobs).toHaveLength(1);

    const lambdaInbox = memoryInbox();
    const lambda = createLambdaHandler({ keyStore, inbox: lambdaInbox });
    const result = await lambda(restApiEvent({ method: 'POST', headers: { 'content-type': 'application/json' }, body }));
    expect(result.statusCode).toBe(200);
    expect(lambdaInbox.jobs).toHaveLength(1);

    const fastifyInbox = memoryInbox();
    const app = Fastify();
    await app.register(kompliantFastify, { prefix: PATH, keyStore, inbox: fastifyInbox });
    const injected = await app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'application/json' }, payload: body });
    expect(injected.statusCode).toBe(200);
    expect(fastifyInbox.jobs).toHaveLength(1);
    await app.close();
  });
});
