// Every documented event type emitted without data reaches a real receiver typed and validated; fan-out to every active config, and none to a deleted one.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventRouter, KOMPLIANT_EVENT_TYPES, kompliantWebhook, type KeyStore, type KnownEventType, type KompliantEvent } from '../../src/index.js';
import { isKnownEvent, kompliantSchemas } from '../../src/schemas.js';
import { ksig1Headers } from '../../src/key-api/ksig.js';
import { credentialsOf, startEmulatorWithClient, type EmulatorFixture } from '../support/emulator.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

/** What each type's handler read from its event-specific field (typed by the router, no casts). */
type Seen = { type: KnownEventType; field: string };

interface TypedReceiver {
  url: string;
  secrets: Map<string, string>;
  seen: Seen[];
  /** Every event onEvent got, after the router ran. */
  events: KompliantEvent[];
  /** Answer this many deliveries with 500 first. */
  failNext: number;
  close(): Promise<void>;
}

/** An Express app with the built-in schemas and a router with one handler per documented type. */
async function startTypedReceiver(): Promise<TypedReceiver> {
  const secrets = new Map<string, string>();
  const keyStore: KeyStore = { getSecret: (keyId) => Promise.resolve(secrets.get(keyId)) };
  const seen: Seen[] = [];
  const events: KompliantEvent[] = [];
  const router = createEventRouter()
    .on(['WORKFLOW_CREATED', 'WORKFLOW_STARTED', 'WORKFLOW_COMPLETED'], (event) => {
      seen.push({ type: event.event_type, field: event.data.workflow_id ?? 'missing' });
    })
    .on('SUBJECT_RECORD_DATA_UPDATED', (event) => {
      const persons = event.data.entities.persons ?? [];
      seen.push({ type: event.event_type, field: `${persons[0]?.person_id ?? 'missing'} ${String(event.data.workflow_id)}` });
    })
    .on('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', (event) => {
      seen.push({ type: event.event_type, field: event.data.underwriting_status });
    })
    .on('DECISION_DOCUMENT_GENERATED', (event) => {
      seen.push({ type: event.event_type, field: event.data.decision_document_id });
    })
    .on(['MBTRUST_SUCCESS', 'MBTRUST_FAILURE'], (event) => {
      const data = event.data.provisioning_data;
      seen.push({ type: event.event_type, field: `${data.provisioning_type} ${data.mbtrust_id ?? ''} ${data.execution_results[0]?.status ?? ''}` });
    })
    .on(['PROPAY_SUCCESS', 'PROPAY_FAILURE'], (event) => {
      const data = event.data.provisioning_data;
      seen.push({ type: event.event_type, field: `${data.provisioning_type} ${data.propay_id ?? ''} ${data.execution_results[0]?.status ?? ''}` });
    });
  const receiver = { secrets, seen, events, failNext: 0 } as unknown as TypedReceiver;
  const app = express();
  app.post(
    '/webhooks/kompliant',
    kompliantWebhook({
      keyStore,
      schemas: kompliantSchemas,
      async onEvent(event, req) {
        if (receiver.failNext > 0) {
          receiver.failNext--;
          throw new Error('deliberate handler failure');
        }
        await router.handle(event, req);
        events.push(event);
      },
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/kompliant`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  running.push(receiver);
  return receiver;
}

/** Emulator with an active key; the receivers hold its secret and are registered as configs. */
async function setup(receivers: TypedReceiver[], options: Parameters<typeof startEmulatorWithClient>[0] = {}): Promise<EmulatorFixture & { configIds: string[] }> {
  const f = await startEmulatorWithClient({ allowHttpLocalhost: true, timeScale: 0.001, attemptTimeoutMs: 5_000, ...options });
  running.push(f.emulator);
  const key = await f.client.createKey({ accountId: f.account.accountId });
  for (const r of receivers) r.secrets.set(key.key_id, key.shared_secret);
  await f.client.activateKey({ keyId: key.key_id });
  const configIds: string[] = [];
  for (const r of receivers) configIds.push((await f.client.createConfig({ accountId: f.account.accountId, url: r.url })).config_id);
  return { ...f, configIds };
}

describe('emit({ accountId, eventType }) for every documented type', () => {
  it('delivers a realistic payload that passes kompliantSchemas; the router hands each handler its typed field', async () => {
    const receiver = await startTypedReceiver();
    const { emulator, account } = await setup([receiver]);
    for (const eventType of KOMPLIANT_EVENT_TYPES) emulator.emit({ accountId: account.accountId, eventType });
    await emulator.idle();
    expect(emulator.deliveries().map((d) => d.state)).toEqual(KOMPLIANT_EVENT_TYPES.map(() => 'delivered'));

    const byType = new Map(receiver.seen.map((s) => [s.type, s.field]));
    expect([...byType.keys()].toSorted()).toEqual([...KOMPLIANT_EVENT_TYPES].toSorted());
    for (const type of ['WORKFLOW_CREATED', 'WORKFLOW_STARTED', 'WORKFLOW_COMPLETED'] as const) expect(byType.get(type)).toMatch(/^w_\w{22}$/);
    expect(byType.get('SUBJECT_RECORD_DATA_UPDATED')).toMatch(/^\w+ undefined$/);
    expect(byType.get('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED')).toBe('ACCEPTED');
    expect(byType.get('DECISION_DOCUMENT_GENERATED')).toMatch(/^wdd_\w{22}$/);
    expect(byType.get('MBTRUST_SUCCESS')).toMatch(/^MBTRUST ape_\w{22} SUCCESS$/);
    expect(byType.get('MBTRUST_FAILURE')).toMatch(/^MBTRUST ape_\w{22} FAILED$/);
    expect(byType.get('PROPAY_SUCCESS')).toMatch(/^PROPAY ape_\w{22} SUCCESS$/);
    expect(byType.get('PROPAY_FAILURE')).toMatch(/^PROPAY ape_\w{22} FAILED$/);

    // The same events, narrowed by hand with isKnownEvent then a switch.
    for (const event of receiver.events) {
      expect(isKnownEvent(event)).toBe(true);
      expect(event.data.subject_record_id).toMatch(/^sr_\w{22}$/);
    }
  });

  it('POST /_emulator/emit without data sends the sample of the type too', async () => {
    const receiver = await startTypedReceiver();
    const { emulator, account } = await setup([receiver]);
    const emitted = await fetch(`${emulator.url}/_emulator/emit`, {
      method: 'POST',
      headers: { ...ksig1Headers(credentialsOf(account)), 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: account.accountId, event_type: 'SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED' }),
    });
    expect(emitted.status).toBe(200);
    await emulator.idle();
    expect(receiver.seen).toEqual([{ type: 'SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', field: 'ACCEPTED' }]);
  });

  it('a type the library does not know still gets the common fields and is not a known event', async () => {
    const receiver = await startTypedReceiver();
    const { emulator, account } = await setup([receiver]);
    emulator.emit({ accountId: account.accountId, eventType: 'DOCUMENT_UPLOADED' });
    await emulator.idle();
    expect(receiver.events).toHaveLength(1);
    const [event] = receiver.events;
    expect(isKnownEvent(event!)).toBe(false);
    expect(event!.data).toMatchObject({ version: '1.0', user_context: { user_type: 'SYSTEM' } });
    expect(receiver.seen).toEqual([]);
  });
});

describe('fan-out to the active configs of the account', () => {
  it('an event reaches two active configs once each, each with its own retries', async () => {
    const [first, second] = [await startTypedReceiver(), await startTypedReceiver()];
    const { emulator, account } = await setup([first!, second!]);
    second!.failNext = 2;
    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'DECISION_DOCUMENT_GENERATED' });
    expect(emitted.deliveries).toHaveLength(2);
    await emulator.idle();
    for (const r of [first!, second!]) {
      expect(r.events.map((e) => e.id)).toEqual([emitted.eventId]);
      expect(r.seen).toHaveLength(1);
    }
    const [toFirst, toSecond] = emulator.deliveries({ eventId: emitted.eventId });
    expect(toFirst!.attempts.map((a) => a.status)).toEqual([200]);
    expect(toSecond!.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set([toFirst!.configId, toSecond!.configId]).size).toBe(2);
  });

  it('a deleted config receives nothing: neither new events nor the retries still pending', async () => {
    const [kept, deleted] = [await startTypedReceiver(), await startTypedReceiver()];
    // Slow retries, so the deletion lands between two attempts.
    const { emulator, account, client, configIds } = await setup([kept!, deleted!], { timeScale: 0.05 });
    deleted!.failNext = 100;
    const first = emulator.emit({ accountId: account.accountId, eventType: 'WORKFLOW_STARTED' });
    const pending = emulator.deliveries({ eventId: first.eventId })[1]!;
    await expect.poll(() => pending.attempts[0]?.status).toBe(500);
    await client.deleteConfig({ accountId: account.accountId, configId: configIds[1]! });
    // An attempt already under way when the config was deleted cannot be recalled; none starts after.
    const attemptsAtDelete = pending.attempts.length;
    await emulator.idle();
    expect(pending.state).toBe('cancelled');
    expect(pending.attempts).toHaveLength(attemptsAtDelete);
    expect(deleted!.events).toEqual([]);

    const second = emulator.emit({ accountId: account.accountId, eventType: 'WORKFLOW_COMPLETED' });
    expect(second.deliveries.map((d) => d.configId)).toEqual([configIds[0]]);
    await emulator.idle();
    expect(kept!.events.map((e) => e.id)).toEqual([first.eventId, second.eventId]);
    expect(deleted!.events).toEqual([]);
  });

  it('an updated config gets the retries still to come at its new URL', async () => {
    const [before, after] = [await startTypedReceiver(), await startTypedReceiver()];
    const { emulator, account, client, configIds } = await setup([before!], { timeScale: 0.05 });
    for (const [keyId, secret] of before!.secrets) after!.secrets.set(keyId, secret);
    before!.failNext = 100;
    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'PROPAY_FAILURE' });
    const [delivery] = emitted.deliveries;
    await expect.poll(() => delivery!.attempts[0]?.status).toBe(500);
    await client.updateConfig({ accountId: account.accountId, configId: configIds[0]!, url: after!.url });
    await emulator.idle();
    expect(delivery!.state).toBe('delivered');
    expect(delivery!.url).toBe(after!.url);
    expect(after!.events.map((e) => e.id)).toEqual([emitted.eventId]);
  });
});
