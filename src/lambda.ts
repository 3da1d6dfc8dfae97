/**
 * The AWS Lambda adapters: a handler for API Gateway REST API (payload 1.0), HTTP API
 * (payload 2.0) and Lambda Function URL events, and an SQS batch handler for envelopes that
 * reached the function through a queue.
 *
 * @packageDocumentation
 */
export * from './adapters/lambda.js';
export type { LambdaContextLike } from './adapters/lambda-invocation.js';
export { createSqsBatchHandler } from './adapters/lambda-sqs.js';
export type { SqsBatchEventLike, SqsBatchHandler, SqsBatchHandlerOptions, SqsBatchResponse, SqsRecordLike } from './adapters/lambda-sqs.js';
