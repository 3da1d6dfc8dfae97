// Realistic decrypted payloads of each documented event type, for tests, the emulator and the CLI.
import type {
  EventType,
  KnownEventDataByType,
  KnownEventType,
  MbtrustEventData,
  PayloadV1,
  PropayEventData,
  UserContext,
  WorkflowType,
} from '../wire/event.js';
import { randomId } from '../wire/ids.js';

/** The common fields without the workflow ones (`SUBJECT_RECORD_DATA_UPDATED` has none). */
function subjectOnly(userContext: UserContext): { version: '1.0'; subject_record_id: string; user_context: UserContext } {
  return { version: '1.0', subject_record_id: randomId('sr_'), user_context: userContext };
}

function common(workflowType: WorkflowType, userContext: UserContext): PayloadV1 {
  const { version, subject_record_id, user_context } = subjectOnly(userContext);
  return { version, subject_record_id, workflow_id: randomId('w_'), workflow_type: workflowType, user_context };
}

const USER: UserContext = { user_id: 'jane.doe@example.com', user_type: 'USER' };
const API_KEY: UserContext = { user_id: 'onboarding-service', user_type: 'API_KEY' };
const SYSTEM: UserContext = { user_id: 'SYSTEM', user_type: 'SYSTEM' };

function minutesAgo(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

function execution(status: 'SUCCESS' | 'FAILED', errors: unknown[]): MbtrustEventData['provisioning_data']['execution_results'][number] {
  return {
    operation_id: randomId('ap_'),
    operation_type: 'ONBOARDING',
    status,
    started_at: minutesAgo(2),
    finished_at: minutesAgo(0),
    errors,
  };
}

const FAILURE_ERRORS = [{ code: 'VALIDATION_ERROR', message: 'The business tax id was rejected by the processor' }];

function mbtrust(success: boolean): MbtrustEventData {
  return {
    ...common('ACCOUNT_PROVISIONING', SYSTEM),
    provisioning_data: {
      provisioning_type: 'MBTRUST',
      provisioning_sponsor: 'MERRICK',
      mbtrust_id: randomId('ape_'),
      status: success ? 'ACTIVE' : 'CREATED',
      created_at: minutesAgo(5),
      updated_at: minutesAgo(0),
      execution_results: [success ? execution('SUCCESS', []) : execution('FAILED', FAILURE_ERRORS)],
    },
  };
}

function propay(success: boolean): PropayEventData {
  return {
    ...common('ACCOUNT_PROVISIONING', SYSTEM),
    provisioning_data: {
      provisioning_type: 'PROPAY',
      provisioning_sponsor: 'GLOBAL_PAYMENTS',
      propay_id: randomId('ape_'),
      status: success ? 'ACTIVE' : 'CREATED',
      created_at: minutesAgo(5),
      updated_at: minutesAgo(0),
      execution_results: [success ? execution('SUCCESS', []) : execution('FAILED', FAILURE_ERRORS)],
    },
  };
}

const BUILDERS: { readonly [T in KnownEventType]: () => KnownEventDataByType[T] } = {
  WORKFLOW_CREATED: () => common('BUSINESS_APPLICATION', USER),
  WORKFLOW_STARTED: () => common('BUSINESS_APPLICATION', API_KEY),
  WORKFLOW_COMPLETED: () => common('BUSINESS_APPLICATION', SYSTEM),
  SUBJECT_RECORD_DATA_UPDATED: () => ({
    ...subjectOnly(USER),
    // Entity id prefixes are not published: these are placeholders.
    entities: {
      business: [{ business_id: randomId('bus_'), fields: ['email', 'addresses.legal.line1'] }],
      persons: [{ person_id: randomId('per_'), fields: ['first_name'] }],
    },
  }),
  SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED: () => ({ ...common('BUSINESS_UNDERWRITING', USER), underwriting_status: 'ACCEPTED' }),
  DECISION_DOCUMENT_GENERATED: () => ({ ...common('BUSINESS_UNDERWRITING', SYSTEM), decision_document_id: randomId('wdd_') }),
  MBTRUST_SUCCESS: () => mbtrust(true),
  MBTRUST_FAILURE: () => mbtrust(false),
  PROPAY_SUCCESS: () => propay(true),
  PROPAY_FAILURE: () => propay(false),
};

/** The `data` {@link sampleEvent} returns: the published shape of a documented type, else `PayloadV1`. */
export type SampleData<T extends string> = T extends KnownEventType ? KnownEventDataByType[T] : PayloadV1;

/** What {@link sampleEvent} merges over the sample: typed per documented type. */
export type SampleOverrides<T extends string> = Partial<SampleData<T>>;

/**
 * A realistic decrypted payload (`data`) of an event type, fresh ids on every call (`sr_...`,
 * `w_...`, `wdd_...`, `ape_...`, `ap_...`), with `overrides` merged over its top level. A type
 * the library does not know gets the common payload 1.0 fields.
 *
 * @example
 * ```ts
 * import { createTestWebhook, generateSharedSecret, sampleEvent } from 'kompliant-webhooks/testing';
 *
 * const secret = generateSharedSecret();
 * const data = sampleEvent('SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', { underwriting_status: 'DECLINED' });
 * const envelope = createTestWebhook({ secret, eventType: 'SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED', data });
 * ```
 */
export function sampleEvent<T extends EventType>(eventType: T, overrides?: SampleOverrides<T>): SampleData<T>;
export function sampleEvent(eventType: string, overrides: Record<string, unknown> = {}): PayloadV1 {
  if (typeof eventType !== 'string') throw new TypeError('sampleEvent: eventType must be a string');
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new TypeError('sampleEvent: overrides must be an object');
  const build = Object.hasOwn(BUILDERS, eventType) ? BUILDERS[eventType as KnownEventType] : () => common('BUSINESS_APPLICATION', SYSTEM);
  return { ...build(), ...overrides };
}
