/**
 * The ten event types of Kompliant's payload 1.0 documentation (one page per type), in the
 * order of its catalog. Other types still arrive at runtime and are passed on, never rejected.
 */
export const KOMPLIANT_EVENT_TYPES = [
  'WORKFLOW_CREATED',
  'WORKFLOW_STARTED',
  'WORKFLOW_COMPLETED',
  'SUBJECT_RECORD_DATA_UPDATED',
  'SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED',
  'DECISION_DOCUMENT_GENERATED',
  'MBTRUST_SUCCESS',
  'MBTRUST_FAILURE',
  'PROPAY_SUCCESS',
  'PROPAY_FAILURE',
] as const;

/** One of the ten documented event types ({@link KOMPLIANT_EVENT_TYPES}). */
export type KnownEventType = (typeof KOMPLIANT_EVENT_TYPES)[number];

/**
 * An `event_type`: one of the documented names (for autocompletion) or any other string,
 * since new types are passed on, not rejected.
 */
// The `string & {}` keeps the literal members visible to editors instead of collapsing to string.
export type EventType = KnownEventType | (string & {});

/** Who triggered the event (payload 1.0). */
export interface UserContext {
  /** An email for `USER`, the API key's name for `API_KEY`, `SYSTEM` for `SYSTEM`. */
  user_id: string;
  user_type: 'USER' | 'API_KEY' | 'SYSTEM' | (string & {});
}

/** The workflow types seen in Kompliant's examples; an open set. */
export type WorkflowType = 'BUSINESS_APPLICATION' | 'ACCOUNT_PROVISIONING' | 'BUSINESS_UNDERWRITING' | (string & {});

/**
 * The decrypted `data` of payload version 1.0 (spec section 3): the fields every event has.
 * Event-specific fields are allowed beside the common ones (a new minor version adds fields).
 */
export interface PayloadV1 {
  /** `"1.0"`; a later `1.x` only adds fields. */
  version: '1.0' | (string & {});
  /** `sr_...` */
  subject_record_id: string;
  user_context: UserContext;
  /** `w_...`, on workflow-based events. */
  workflow_id?: string;
  workflow_type?: WorkflowType;
  [field: string]: unknown;
}

/** `data` of `WORKFLOW_CREATED`, `WORKFLOW_STARTED` and `WORKFLOW_COMPLETED`: the common fields only. */
export interface WorkflowEventData extends PayloadV1 {}

/** One changed entity of `entities`: its id field and the dotted paths of the fields that changed. */
export interface ChangedEntity {
  /** Dotted paths of the changed fields, e.g. `email`, `addresses.legal.line1`. */
  fields: string[];
  [key: string]: unknown;
}

/** A changed entity of the `business` group: one of the three id fields is set. */
export interface ChangedBusinessEntity extends ChangedEntity {
  business_id?: string;
  business_bank_account_id?: string;
  business_owner_id?: string;
}

/**
 * `entities` of `SUBJECT_RECORD_DATA_UPDATED`: only the changed entities and fields, by entity
 * group. Groups not published (or added later) are kept, untyped.
 */
export interface SubjectRecordEntities {
  business?: ChangedBusinessEntity[];
  persons?: Array<ChangedEntity & { person_id: string }>;
  bank_accounts?: Array<ChangedEntity & { bank_account_id: string }>;
  sales_info?: Array<ChangedEntity & { sales_info_id: string }>;
  [group: string]: unknown;
}

/** `data` of `SUBJECT_RECORD_DATA_UPDATED`. Kompliant sends no workflow fields with it. */
export interface SubjectRecordDataUpdatedData extends PayloadV1 {
  entities: SubjectRecordEntities;
  /** Never sent with this event. */
  workflow_id?: never;
  /** Never sent with this event. */
  workflow_type?: never;
}

/** The underwriting statuses seen in Kompliant's examples; the full set is not published. */
export type UnderwritingStatus = 'APPROVED' | 'PENDING_REVIEW' | 'DECLINED' | 'ACCEPTED' | (string & {});

/** `data` of `SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED`. */
export interface UnderwritingStatusUpdatedData extends PayloadV1 {
  underwriting_status: UnderwritingStatus;
}

/** `data` of `DECISION_DOCUMENT_GENERATED`. */
export interface DecisionDocumentGeneratedData extends PayloadV1 {
  /** `wdd_...` */
  decision_document_id: string;
}

/** One execution (onboarding, document sync, merchant update) of a provisioning. */
export interface ProvisioningExecutionResult {
  status: 'PENDING' | 'IN_PROGRESS' | 'SUCCESS' | 'FAILED' | (string & {});
  started_at?: string;
  finished_at?: string;
  /** Why the execution failed; the items' shape is not published. */
  errors?: unknown[];
  /** `ap_...` (per the `mbtrust.get` reference). */
  operation_id?: string;
  operation_type?: 'ONBOARDING' | 'DOCUMENT_SYNC' | (string & {});
  [key: string]: unknown;
}

/** The fields both provisioning kinds publish (the object `mbtrust.get` / `propay.get` return). */
export interface ProvisioningDataBase {
  /** The provisioning entity's status; the vendor prints both cases (`ACTIVE`, `active`). */
  status: 'CREATED' | 'ACTIVE' | 'CLOSED' | (string & {});
  created_at?: string;
  updated_at?: string;
  execution_results: ProvisioningExecutionResult[];
  [key: string]: unknown;
}

/** `provisioning_data` of `MBTRUST_SUCCESS` / `MBTRUST_FAILURE`. */
export interface MbtrustProvisioningData extends ProvisioningDataBase {
  provisioning_type: 'MBTRUST';
  provisioning_sponsor?: 'MERRICK' | (string & {});
  /** `ape_...` */
  mbtrust_id?: string;
}

/** `provisioning_data` of `PROPAY_SUCCESS` / `PROPAY_FAILURE`. */
export interface PropayProvisioningData extends ProvisioningDataBase {
  provisioning_type: 'PROPAY';
  provisioning_sponsor?: 'GLOBAL_PAYMENTS' | (string & {});
  /** `ape_...` */
  propay_id?: string;
}

/** `data` of `MBTRUST_SUCCESS` and `MBTRUST_FAILURE` (failure reasons in `execution_results[].errors`). */
export interface MbtrustEventData extends PayloadV1 {
  provisioning_data: MbtrustProvisioningData;
}

/** `data` of `PROPAY_SUCCESS` and `PROPAY_FAILURE` (failure reasons in `execution_results[].errors`). */
export interface PropayEventData extends PayloadV1 {
  provisioning_data: PropayProvisioningData;
}

/** The decrypted `data` of each documented event type. */
export interface KnownEventDataByType {
  WORKFLOW_CREATED: WorkflowEventData;
  WORKFLOW_STARTED: WorkflowEventData;
  WORKFLOW_COMPLETED: WorkflowEventData;
  SUBJECT_RECORD_DATA_UPDATED: SubjectRecordDataUpdatedData;
  SUBJECT_RECORD_UNDERWRITING_STATUS_UPDATED: UnderwritingStatusUpdatedData;
  DECISION_DOCUMENT_GENERATED: DecisionDocumentGeneratedData;
  MBTRUST_SUCCESS: MbtrustEventData;
  MBTRUST_FAILURE: MbtrustEventData;
  PROPAY_SUCCESS: PropayEventData;
  PROPAY_FAILURE: PropayEventData;
}

/**
 * The envelope fields the sender authenticates through the AAD (everything but `data` and
 * `retry_count`), exactly as received.
 */
export interface EnvelopeMetadata {
  id: string;
  event_type: EventType;
  timestamp: string;
  account_id: string;
  schema_version: string;
  key_id: string;
}

/** The JSON envelope as Kompliant POSTs it: metadata, base64 `data`, `retry_count`. */
export interface KompliantEnvelope extends EnvelopeMetadata {
  /** base64( nonce(12) || ciphertext || tag(16) ). */
  data: string;
  /** 0 on the first attempt; not authenticated. */
  retry_count?: number;
}

/**
 * A verified, decrypted event with `data` of type `TData`: the envelope with `data` replaced by
 * the decrypted object. Only the known envelope fields are copied; unknown envelope fields are
 * dropped since nothing authenticates them. `retry_count` is 0 when the sender omitted it.
 */
export interface KompliantEventWithData<TData = PayloadV1> extends EnvelopeMetadata {
  data: TData;
  retry_count: number;
}

/** The event of one documented type: `event_type` is that literal and `data` its published shape. */
export interface KompliantEventOf<T extends KnownEventType> extends KompliantEventWithData<KnownEventDataByType[T]> {
  event_type: T;
}

/** An event of one of the ten documented types; `switch (event.event_type)` narrows it. */
export type KnownKompliantEvent = { [T in KnownEventType]: KompliantEventOf<T> }[KnownEventType];

/**
 * An event of a type the library does not know (one Kompliant added later, or `DOCUMENT_UPLOADED`):
 * the common fields only. Told apart from the known ones with `isKnownEvent`.
 */
export interface UnknownKompliantEvent extends KompliantEventWithData<PayloadV1> {
  event_type: string;
}

/**
 * A verified, decrypted Kompliant event: one of the ten documented types, or an unknown one.
 * TypeScript cannot narrow a union by `event_type` while one member's `event_type` is any
 * string, so narrow in two steps: `isKnownEvent(event)` (from `kompliant-webhooks/schemas`)
 * first, then `switch (event.event_type)`. The router's `on('TYPE', ...)` is narrowed already.
 *
 * `KompliantEvent<TData>` with a type argument is the generic {@link KompliantEventWithData}.
 *
 * @example
 * ```ts
 * import type { KompliantEvent } from 'kompliant-webhooks';
 * import { isKnownEvent } from 'kompliant-webhooks/schemas';
 *
 * function handle(event: KompliantEvent) {
 *   if (!isKnownEvent(event)) return console.log('new type', event.event_type);
 *   if (event.event_type === 'DECISION_DOCUMENT_GENERATED') console.log(event.data.decision_document_id);
 * }
 * ```
 */
export type KompliantEvent<TData = never> = [TData] extends [never] ? KnownKompliantEvent | UnknownKompliantEvent : KompliantEventWithData<TData>;
