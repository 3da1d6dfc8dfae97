// The event catalog: kompliantSchemas (forward compatible checks of the published fields), sampleEvent, isKnownEvent and assertNever.
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { KOMPLIANT_EVENT_TYPES, kompliantWebhook, memoryKeyStore, openEnvelope, type KompliantEvent } from '../../src/index.js';
import { assertNever, isKnownEvent, isKnownEventType, kompliantSchemas } from '../../src/schemas.js';
import { createTestWebhook, generateSharedSecret, sampleEvent } from '../../src/testing.js';
import type { StandardSchemaV1 } from '../../src/wire/standard-schema.js';

function validate(eventType: keyof typeof kompliantSchemas, data: unknown): StandardSchemaV1.Result<unknown> {
  const result = kompliantSchemas[eventType]['~standard'].validate(data);
  if (result instanceof Promise) throw new Error('the built-in schemas are synchronous');
  return result;
}

/** The failing paths of a result, dotted; [] when it passed. */
function failing(result: StandardSchemaV1.Result<unknown>): string[] {
  return (result.issues ?? []).map((i) => (i.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.'));
}

const clone = <T>(value: T): T => structuredClone(value);

describe('kompliantSchemas', () => {
  it('are Standard Schemas v1, one per documented type, each passing its sample unchanged', () => {
    expect(Object.keys(kompliantSchemas)).toEqual([...KOMPLIANT_EVENT_TYPES]);
    for (const type of KOMPLIANT_EVENT_TYPES) {
      const schema = kompliantSchemas[type];
      expect(schema['~standard']).toMatchObject({ version: 1, vendor: 'kompliant-webhooks' });
      expect(schema.eventType).toBe(type);
      const data = sampleEvent(type);
      const result = validate(type, data);
      expect(result.issues).toBeUndefined();
      expect((result as { value: unknown }).value).toBe(data);
    }
  });

  it('every type requires the common fields: version 1.x, subject_record_id, user_context', () => {
    for (const type of KOMPLIANT_EVENT_TYPES) {
      const data = clone(sampleEvent(type)) as Record<string, unknown>;
      delete data.subject_record_id;
      data.version = '2.0';
      data.user_context = { user_id: 7 };
      expect(failing(validate(type, data))).toEqual(['version', 'subject_record_id', 'user_context.user_id', 'user_context.user_type']);
    }
    expect(failing(validate('WORKFLOW_CREATED', 'not an object'))).toEqual(['']);
    expect(failing(validate('WORKFLOW_CREATED', [sampleEvent('WORKFLOW_CREATED')]))).toEqual(['']);
  });

  it('checks each type\'s published required field', () => {
    const without = (type: (typeof KOMPLIANT_EVENT_TYPES)[number], field: string) => {
      const data = clone(sampleEvent(type)) as Record<string, unknown>;
      delete data[field];
      return failing(validate(type, data));
    };
    expect(without('SUBJECT_RECORD_DATA_UPDATED', 'entities')).toEqual(['entities']);
    expect(without('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', 'underwriting_status')).toEqual(['underwriting_status']);
    expect(without('DECISION_DOCUMENT_GENERATED', 'decision_document_id')).toEqual(['decision_document_id']);
    for (const type of ['MBTRUST_SUCCESS', 'MBTRUST_FAILURE', 'PROPAY_SUCCESS', 'PROPAY_FAILURE'] as const) {
      expect(without(type, 'provisioning_data')).toEqual(['provisioning_data']);
      const data = clone(sampleEvent(type)) as { provisioning_data: Record<string, unknown> };
      data.provisioning_data = { execution_results: [{ errors: 'no' }, 3] };
      expect(failing(validate(type, data))).toEqual([
        'provisioning_data.provisioning_type',
        'provisioning_data.status',
        'provisioning_data.execution_results.0.status',
        'provisioning_data.execution_results.0.errors',
        'provisioning_data.execution_results.1',
      ]);
    }
    const entities = clone(sampleEvent('SUBJECT_RECORD_DATA_UPDATED'));
    entities.entities = { persons: [{ fields: ['email', 3] }], bank_accounts: 'x', business: [{ fields: [] }] } as never;
    expect(failing(validate('SUBJECT_RECORD_DATA_UPDATED', entities))).toEqual(['entities.persons.0.person_id', 'entities.persons.0.fields', 'entities.bank_accounts']);
    // A present optional field of the wrong type fails; absent or null passes.
    const workflow = clone(sampleEvent('WORKFLOW_STARTED')) as Record<string, unknown>;
    workflow.workflow_id = 12;
    expect(failing(validate('WORKFLOW_STARTED', workflow))).toEqual(['workflow_id']);
    workflow.workflow_id = null;
    delete workflow.workflow_type;
    expect(failing(validate('WORKFLOW_STARTED', workflow))).toEqual([]);
  });

  it('is forward compatible: any 1.x, unknown enum values, new fields and groups pass', () => {
    const data = {
      ...sampleEvent('MBTRUST_FAILURE'),
      version: '1.7',
      workflow_type: 'A_WORKFLOW_TYPE_NOT_SEEN_YET',
      user_context: { user_id: 'x', user_type: 'ROBOT' },
      a_new_field: { anything: [1, 2] },
    };
    data.provisioning_data = { ...data.provisioning_data, status: 'suspended', new_key: true, execution_results: [{ status: 'RETRYING', errors: [{ any: 'shape' }] }] };
    expect(failing(validate('MBTRUST_FAILURE', data))).toEqual([]);
    const updated = { ...sampleEvent('SUBJECT_RECORD_DATA_UPDATED'), entities: { documents: [{ id: 1 }], persons: [{ person_id: 'p', fields: [] }] } };
    expect(failing(validate('SUBJECT_RECORD_DATA_UPDATED', updated))).toEqual([]);
    expect(failing(validate('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', { ...sampleEvent('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED'), underwriting_status: 'ESCALATED' }))).toEqual([]);
    for (const version of ['1', '2.0', '1.x', ' 1.0', 1]) expect(failing(validate('WORKFLOW_CREATED', { ...sampleEvent('WORKFLOW_CREATED'), version }))).toEqual(['version']);
  });

  it('issue messages never quote the payload', () => {
    const secretish = 'jane.doe@example.com-4111111111111111';
    const data = { version: secretish, subject_record_id: 5, user_context: { user_id: secretish, user_type: 9 }, decision_document_id: [secretish] };
    const result = validate('DECISION_DOCUMENT_GENERATED', data);
    expect(result.issues!.length).toBeGreaterThan(0);
    expect(JSON.stringify(result.issues)).not.toContain('4111');
  });

  it('as the receiver\'s schemas option: a payload missing its field is 400 INVALID_PAYLOAD naming it; other types pass unchecked', async () => {
    const secret = generateSharedSecret();
    const keyId = 'whk_20251121_01';
    const seen: KompliantEvent[] = [];
    const app = express().post(
      '/hook',
      kompliantWebhook({ keyStore: memoryKeyStore({ [keyId]: secret }), schemas: kompliantSchemas, onEvent: (event) => void seen.push(event) }),
    );
    const { decision_document_id: _dropped, ...missing } = sampleEvent('DECISION_DOCUMENT_GENERATED');
    const bad = await request(app).post('/hook').send(createTestWebhook({ secret, keyId, eventType: 'DECISION_DOCUMENT_GENERATED', data: missing }));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(bad.body.error.message).toContain('decision_document_id');
    await request(app).post('/hook').send(createTestWebhook({ secret, keyId, eventType: 'DECISION_DOCUMENT_GENERATED' })).expect(200);
    await request(app).post('/hook').send(createTestWebhook({ secret, keyId, eventType: 'DOCUMENT_UPLOADED', data: { anything: true } })).expect(200);
    expect(seen.map((e) => e.event_type)).toEqual(['DECISION_DOCUMENT_GENERATED', 'DOCUMENT_UPLOADED']);
  });
});

describe('sampleEvent', () => {
  it('gives each documented type its fields with the right id prefixes, fresh on every call', () => {
    const id = /^[A-Za-z0-9]{22}$/;
    for (const type of KOMPLIANT_EVENT_TYPES) {
      const data = sampleEvent(type);
      expect(data.version).toBe('1.0');
      expect(data.subject_record_id.slice(3)).toMatch(id);
      expect(data.subject_record_id.startsWith('sr_')).toBe(true);
      expect(['USER', 'API_KEY', 'SYSTEM']).toContain(data.user_context.user_type);
      if (type === 'SUBJECT_RECORD_DATA_UPDATED') expect(data).not.toHaveProperty('workflow_id');
      else expect(data.workflow_id).toMatch(/^w_[A-Za-z0-9]{22}$/);
      expect(sampleEvent(type).subject_record_id).not.toBe(data.subject_record_id);
    }
    expect(sampleEvent('DECISION_DOCUMENT_GENERATED').decision_document_id).toMatch(/^wdd_[A-Za-z0-9]{22}$/);
    const mbtrust = sampleEvent('MBTRUST_FAILURE').provisioning_data;
    expect(mbtrust).toMatchObject({ provisioning_type: 'MBTRUST', provisioning_sponsor: 'MERRICK' });
    expect(mbtrust.mbtrust_id).toMatch(/^ape_/);
    expect(mbtrust.execution_results[0]).toMatchObject({ status: 'FAILED', operation_type: 'ONBOARDING' });
    expect(mbtrust.execution_results[0]!.operation_id).toMatch(/^ap_/);
    expect(mbtrust.execution_results[0]!.errors!.length).toBeGreaterThan(0);
    expect(sampleEvent('PROPAY_SUCCESS').provisioning_data).toMatchObject({ provisioning_type: 'PROPAY', provisioning_sponsor: 'GLOBAL_PAYMENTS', status: 'ACTIVE' });
    expect(sampleEvent('SUBJECT_RECORD_DATA_UPDATED').entities.persons![0]!.fields.length).toBeGreaterThan(0);
  });

  it('merges overrides over the top level; an unknown type gets the common fields', () => {
    expect(sampleEvent('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', { underwriting_status: 'DECLINED', subject_record_id: 'sr_fixed' })).toMatchObject({
      underwriting_status: 'DECLINED',
      subject_record_id: 'sr_fixed',
    });
    const other = sampleEvent('SOMETHING_NEW', { extra: 1 });
    expect(Object.keys(other).toSorted()).toEqual(['extra', 'subject_record_id', 'user_context', 'version', 'workflow_id', 'workflow_type']);
    expect(() => sampleEvent('WORKFLOW_CREATED', null as never)).toThrow(TypeError);
  });

  it('createTestWebhook seals sampleEvent(eventType) when data is omitted', () => {
    const secret = generateSharedSecret();
    const event = openEnvelope(createTestWebhook({ secret, eventType: 'DECISION_DOCUMENT_GENERATED' }), secret);
    expect(event.data.decision_document_id).toMatch(/^wdd_/);
    const updated = openEnvelope(createTestWebhook({ secret, eventType: 'SUBJECT_RECORD_DATA_UPDATED' }), secret);
    expect(updated.data).toHaveProperty('entities');
    expect(updated.data).not.toHaveProperty('workflow_id');
  });
});

describe('isKnownEvent, isKnownEventType, assertNever', () => {
  it('tell the ten documented types from any other, by name only', () => {
    const secret = generateSharedSecret();
    for (const type of KOMPLIANT_EVENT_TYPES) {
      expect(isKnownEventType(type)).toBe(true);
      expect(isKnownEvent(openEnvelope(createTestWebhook({ secret, eventType: type }), secret))).toBe(true);
    }
    for (const type of ['DOCUMENT_UPLOADED', 'workflow_created', '__proto__', 'constructor', 'toString', '']) {
      expect(isKnownEventType(type)).toBe(false);
      expect(isKnownEvent({ ...openEnvelope(createTestWebhook({ secret }), secret), event_type: type })).toBe(false);
    }
    expect(isKnownEventType(undefined)).toBe(false);
    expect(isKnownEvent(null as never)).toBe(false);
  });

  it('assertNever throws a TypeError naming only the event type', () => {
    const event = { event_type: 'NEW_TYPE', data: { secret: 'sr_private' } };
    expect(() => assertNever(event as never)).toThrow(new TypeError('Unhandled event type "NEW_TYPE"'));
    expect(() => assertNever(undefined as never)).toThrow(TypeError);
  });
});
