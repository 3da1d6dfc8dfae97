// A DynamoDB-backed idempotency store: conditional writes with tokens and leases, a TTL attribute for DynamoDB's own expiry.
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { checkOptionNames, checkPositiveInteger } from '../options/checks.js';
import type { ClaimResult, IdempotencyStore } from './idempotency-store.js';

/** Default deadline of one DynamoDB call (SDK retries included): 5 s. */
const DEFAULT_DYNAMODB_TIMEOUT_MS = 5_000;

/**
 * The attribute DynamoDB's Time to Live deletes items by (epoch seconds). TTL deletion is lazy
 * (typically within a few days), so every condition also checks `expiresAtMs`.
 */
export const DYNAMODB_TTL_ATTRIBUTE = 'expiresAt';

/** Options of {@link dynamoDbIdempotencyStore}. */
export interface DynamoDbIdempotencyStoreOptions {
  /** A `DynamoDBClient` you configured (region, credentials, retries). Required. */
  client: DynamoDBClient;
  /** The table: partition key `id` (String), TTL on `expiresAt` (see `createIdempotencyTableDefinition`). Required. */
  tableName: string;
  /**
   * Deadline of one call, SDK retries included; past it the call rejects (500, retried).
   *
   * @defaultValue 5000
   */
  timeoutMs?: number;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * The CreateTable input of the dedup table `tableName` (on-demand billing), and the
 * UpdateTimeToLive input that turns on DynamoDB's expiry of old items. Run both once, or put
 * the same definition in CloudFormation / CDK / Terraform.
 *
 * @example
 * ```ts
 * import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
 * import { createIdempotencyTableDefinition } from 'kompliant-webhooks/dynamodb';
 *
 * const { createTable, timeToLive } = createIdempotencyTableDefinition('kompliant-webhook-idempotency');
 * await client.send(new CreateTableCommand(createTable));
 * await client.send(new UpdateTimeToLiveCommand(timeToLive));
 * ```
 */
export function createIdempotencyTableDefinition(tableName: string) {
  if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
    throw new TypeError('createIdempotencyTableDefinition: tableName must be 3-255 characters of [A-Za-z0-9_.-]');
  }
  return {
    createTable: {
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' as const }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' as const }],
      BillingMode: 'PAY_PER_REQUEST' as const,
    },
    timeToLive: {
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: DYNAMODB_TTL_ATTRIBUTE, Enabled: true },
    },
  };
}

/** A failed condition (the item is not in the state the write required): an answer, not a store failure. */
function isConditionFailed(error: unknown): error is { Item?: Record<string, AttributeValue> } {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'ConditionalCheckFailedException';
}

/** The item's state as a claim sees it, or undefined when there is no live item. */
function stateOf(item: Record<string, AttributeValue> | undefined, now: number): ClaimResult | undefined {
  if (item === undefined) return undefined;
  const expires = Number(item.expiresAtMs?.N);
  if (!(expires > now)) return undefined;
  return item.done?.BOOL === true ? 'done' : 'in_progress';
}

/**
 * An {@link IdempotencyStore} in DynamoDB, from `kompliant-webhooks/dynamodb`
 * (`@aws-sdk/client-dynamodb` is an optional peer dependency; the main entry never loads it):
 * the shared store for receivers on AWS Lambda. One item per event id: `token`, `done`,
 * `expiresAtMs` (lease end while in progress, retention end once done, checked in every
 * condition) and `expiresAt` (the same time in epoch seconds, for DynamoDB's TTL).
 *
 * - `claim`: PutItem if the item is absent or expired (one conditional write);
 * - `renew`: UpdateItem of the lease while the token holds an unfinished claim;
 * - `complete`: PutItem of the done item if the item is absent or the token's;
 * - `release`: DeleteItem while the token holds an unfinished claim.
 *
 * Errors are mapped as the Secrets Manager key store maps them: ConditionalCheckFailedException
 * is an answer (in progress or done for a claim, "not the holder" for the others); everything
 * else (throttling, AccessDenied, ResourceNotFound, network errors, the `timeoutMs` deadline)
 * rejects with the SDK's error, and the receiver answers 500 so Kompliant retries. Leases use
 * this machine's clock, so keep receivers' clocks in sync (NTP; Lambda's is).
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { dynamoDbIdempotencyStore } from 'kompliant-webhooks/dynamodb';
 *
 * const idempotency = dynamoDbIdempotencyStore({ client: new DynamoDBClient({}), tableName: 'kompliant-webhook-idempotency' });
 * export const handler = createLambdaHandler({ keyStore, idempotency, onEvent }); // from kompliant-webhooks/lambda
 * ```
 */
export function dynamoDbIdempotencyStore(options: DynamoDbIdempotencyStoreOptions): IdempotencyStore {
  const where = 'dynamoDbIdempotencyStore';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  checkOptionNames(options, ['client', 'tableName', 'timeoutMs'], where);
  const { client, tableName } = options;
  if (typeof client !== 'object' || client === null || typeof (client as { send?: unknown }).send !== 'function') {
    throw new TypeError(`${where}: client must be a DynamoDBClient`);
  }
  if (typeof tableName !== 'string' || !TABLE_NAME.test(tableName)) {
    throw new TypeError(`${where}: tableName must be 3-255 characters of [A-Za-z0-9_.-]`);
  }
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 'timeoutMs', DEFAULT_DYNAMODB_TIMEOUT_MS);
  const deadline = (): { abortSignal: AbortSignal } => ({ abortSignal: AbortSignal.timeout(timeoutMs) });

  /** The attributes of an item that lives until `expiresAtMs`. */
  const item = (id: string, token: string, done: boolean, expiresAtMs: number): Record<string, AttributeValue> => ({
    id: { S: id },
    token: { S: token },
    done: { BOOL: done },
    expiresAtMs: { N: String(expiresAtMs) },
    [DYNAMODB_TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAtMs / 1000)) },
  });
  /** Runs a conditional write; resolves false when its condition failed. */
  const conditional = async (write: Promise<unknown>): Promise<{ ok: true } | { ok: false; item?: Record<string, AttributeValue> }> => {
    try {
      await write;
      return { ok: true };
    } catch (error) {
      if (isConditionFailed(error)) return { ok: false, item: error.Item };
      throw error;
    }
  };

  return {
    async claim(id, token, leaseMs): Promise<ClaimResult> {
      const now = Date.now();
      const put = await conditional(
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item(id, token, false, now + leaseMs),
            ConditionExpression: 'attribute_not_exists(id) OR expiresAtMs <= :now',
            ExpressionAttributeValues: { ':now': { N: String(now) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          deadline(),
        ),
      );
      if (put.ok) return 'claimed';
      // DynamoDB returns the item that failed the condition; a server that does not (dynalite)
      // costs one strongly consistent read. An item gone in between reads as in progress (409, retried).
      const old =
        put.item ??
        (await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: id } }, ConsistentRead: true }), deadline()))
          .Item;
      return stateOf(old, now) ?? 'in_progress';
    },
    async renew(id, token, leaseMs): Promise<boolean> {
      const expiresAtMs = Date.now() + leaseMs;
      const update = await conditional(
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { id: { S: id } },
            UpdateExpression: 'SET expiresAtMs = :ms, #ttl = :s',
            ConditionExpression: '#token = :token AND done = :false',
            ExpressionAttributeNames: { '#ttl': DYNAMODB_TTL_ATTRIBUTE, '#token': 'token' },
            ExpressionAttributeValues: {
              ':ms': { N: String(expiresAtMs) },
              ':s': { N: String(Math.ceil(expiresAtMs / 1000)) },
              ':token': { S: token },
              ':false': { BOOL: false },
            },
          }),
          deadline(),
        ),
      );
      return update.ok;
    },
    async complete(id, token, ttlMs) {
      await conditional(
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: item(id, token, true, Date.now() + ttlMs),
            ConditionExpression: 'attribute_not_exists(id) OR #token = :token',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: { ':token': { S: token } },
          }),
          deadline(),
        ),
      );
    },
    async release(id, token) {
      await conditional(
        client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: { id: { S: id } },
            ConditionExpression: '#token = :token AND done = :false',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: { ':token': { S: token }, ':false': { BOOL: false } },
          }),
          deadline(),
        ),
      );
    },
  };
}
