import connect from 'connect';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { kompliantWebhook, memoryKeyStore, type WebhookRequest } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

describe('plain Connect', () => {
  it('handler mode answers 200 and rejects tampering with 401', async () => {
    const onEvent = vi.fn();
    const app = connect().use(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent }));
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await request(app).post(PATH).send(envelope).expect(200, { received: true });
    const res = await request(app).post(PATH).send({ ...envelope, account_id: 'lv_other' }).expect(401);
    expect(res.body.error.code).toBe('DECRYPTION_FAILED');
    expect(onEvent).toHaveBeenCalledTimes(1);
  });

  it('pass-through mode hands req.kompliantEvent to the next middleware', async () => {
    const app = connect()
      .use(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }) }))
      .use(PATH, (req: WebhookRequest, res: import('node:http').ServerResponse) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ type: req.kompliantEvent?.event_type }));
      });
    const envelope = createTestWebhook({ secret: SECRET, keyId: KEY_ID, eventType: 'DOCUMENT_UPLOADED' });
    await request(app).post(PATH).send(envelope).expect(200, { type: 'DOCUMENT_UPLOADED' });
  });
});
