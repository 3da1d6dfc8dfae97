/**
 * How to unit-test your own webhook handler: encrypt fixtures with kompliant-webhooks/testing
 * and POST them with supertest, exactly as Kompliant would.
 *
 * Run: `npx vitest run examples/handler.test.ts` (with `vitest`, `supertest` and `express` installed).
 */
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { memoryKeyStore, type KompliantEvent } from 'kompliant-webhooks';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';
import { createApp } from './express-app.js';

const keyId = 'whk_20251121_01';
const secret = generateSharedSecret();

function setup() {
  const handled: KompliantEvent[] = [];
  const app = createApp(memoryKeyStore({ [keyId]: secret }), { handle: (event) => void handled.push(event) });
  return { app, handled };
}

describe('my Kompliant webhook handler', () => {
  it('handles a completed workflow', async () => {
    const { app, handled } = setup();
    const envelope = createTestWebhook({
      secret,
      keyId,
      eventType: 'WORKFLOW_COMPLETED',
      data: {
        version: '1.0',
        subject_record_id: 'sr_test',
        user_context: { user_id: 'SYSTEM', user_type: 'SYSTEM' },
        workflow_type: 'BUSINESS_APPLICATION',
      },
    });
    await request(app).post('/webhooks/kompliant').send(envelope).expect(200, { received: true });
    expect(handled).toHaveLength(1);
    expect(handled[0]?.data.subject_record_id).toBe('sr_test');
  });

  it('rejects an event encrypted with another key, without calling the handler', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { app, handled } = setup();
    const envelope = createTestWebhook({ secret: generateSharedSecret(), keyId });
    const res = await request(app).post('/webhooks/kompliant').send(envelope).expect(401);
    expect(res.body.error.code).toBe('DECRYPTION_FAILED');
    expect(handled).toHaveLength(0);
    warn.mockRestore();
  });

  it('answers 500 when the handler fails, so Kompliant retries', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const app = createApp(memoryKeyStore({ [keyId]: secret }), {
      handle: () => Promise.reject(new Error('database down')),
    });
    const res = await request(app).post('/webhooks/kompliant').send(createTestWebhook({ secret, keyId })).expect(500);
    expect(res.body.error.code).toBe('HANDLER_FAILED');
    expect(warn).toHaveBeenCalledWith('kompliant webhook rejected: HANDLER_FAILED (500)');
    warn.mockRestore();
  });
});
