/**
 * The AWS Lambda adapter: a handler for API Gateway REST API (payload 1.0), HTTP API
 * (payload 2.0) and Lambda Function URL events.
 *
 * @packageDocumentation
 */
export * from './adapters/lambda.js';
