/**
 * DynamoDB integrations of kompliant-webhooks, from `kompliant-webhooks/dynamodb`: a shared
 * idempotency store for receivers on AWS Lambda. Needs the optional peer dependency
 * `@aws-sdk/client-dynamodb`; the main entry never loads it.
 *
 * @packageDocumentation
 */
export { dynamoDbIdempotencyStore, createIdempotencyTableDefinition, DYNAMODB_TTL_ATTRIBUTE } from './idempotency/dynamodb.js';
export type { DynamoDbIdempotencyStoreOptions } from './idempotency/dynamodb.js';
