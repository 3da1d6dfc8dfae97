// The NestJS example tested as a user would: the real Nest app over HTTP, and the events provider unit-tested with the testing helpers.
// Run: npx vitest run examples/nestjs/nestjs.test.ts
import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, memoryKeyStore } from 'kompliant-webhooks';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';
import { AppModule } from './app.module.js';
import { bootstrap } from './main.js';
import { WebhookEventsService } from './webhook-events.service.js';

const KEY_ID = 'whk_20251121_01';
const secret = generateSharedSecret();
const data = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u_1', user_type: 'USER' }, workflow_id: 'w_1' };

describe('NestJS example: the middleware mounted for POST /webhooks/kompliant', () => {
  let app: NestExpressApplication;
  let events: WebhookEventsService;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(ConfigService)
      .useValue(new ConfigService({ KOMPLIANT_WEBHOOK_KEY_ID: KEY_ID, KOMPLIANT_WEBHOOK_SECRET: secret }))
      .compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    app.useBodyParser('json', { limit: '1mb' });
    await app.init();
    events = app.get(WebhookEventsService);
  });

  afterAll(async () => {
    await app.close();
  });

  it('a webhook reaches the provider and is answered 200; its retry is a duplicate', async () => {
    const webhook = createTestWebhook({ secret, keyId: KEY_ID, data });
    const first = await request(app.getHttpServer()).post('/webhooks/kompliant').send(webhook);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ received: true });
    expect(events.handled.map((e) => e.id)).toEqual([webhook.id]);
    const retry = await request(app.getHttpServer()).post('/webhooks/kompliant').send({ ...webhook, retry_count: 1 });
    expect(retry.body).toEqual({ received: true, duplicate: true });
    expect(events.handled).toHaveLength(1);
  });

  it('a forged webhook is 401 and never reaches the provider', async () => {
    const webhook = createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID, data });
    const response = await request(app.getHttpServer()).post('/webhooks/kompliant').send(webhook);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('DECRYPTION_FAILED');
    expect(events.handled.map((e) => e.id)).not.toContain(webhook.id);
  });

  it('a provider that throws is 500 HANDLER_FAILED, so Kompliant retries', async () => {
    const webhook = createTestWebhook({ secret, keyId: KEY_ID, data: { ...data, workflow_id: undefined } });
    const response = await request(app.getHttpServer()).post('/webhooks/kompliant').send(webhook);
    expect(response.status).toBe(500);
    expect(response.body.error.code).toBe('HANDLER_FAILED');
  });

  it('a body over Nest\'s default 100 kB JSON limit is still accepted (the parser limit is raised to 1 MiB)', async () => {
    const webhook = createTestWebhook({ secret, keyId: KEY_ID, data: { ...data, note: 'x'.repeat(200_000) } });
    expect((await request(app.getHttpServer()).post('/webhooks/kompliant').send(webhook)).status).toBe(200);
  });
});

describe('NestJS example: main.ts bootstrap with the secret from the environment', () => {
  it('listens on loopback and decrypts a webhook; the ConfigService reads process.env', async () => {
    process.env.KOMPLIANT_WEBHOOK_KEY_ID = KEY_ID;
    process.env.KOMPLIANT_WEBHOOK_SECRET = secret;
    const app = await bootstrap(0);
    try {
      const webhook = createTestWebhook({ secret, keyId: KEY_ID, data });
      expect((await request(app.getHttpServer()).post('/webhooks/kompliant').send(webhook)).status).toBe(200);
      expect(app.get(WebhookEventsService).handled.map((e) => e.id)).toEqual([webhook.id]);
    } finally {
      await app.close();
      delete process.env.KOMPLIANT_WEBHOOK_KEY_ID;
      delete process.env.KOMPLIANT_WEBHOOK_SECRET;
    }
  });
});

describe('NestJS example: the events provider unit-tested with the testing helpers', () => {
  it('handles a verified event', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }) });
    const event = await receiver.receive(createTestWebhook({ secret, keyId: KEY_ID, data }));
    const service = new WebhookEventsService();
    await service.handle(event);
    expect(service.handled).toEqual([event]);
  });
});
