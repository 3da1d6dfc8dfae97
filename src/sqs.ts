/**
 * The inbox on Amazon SQS, from `kompliant-webhooks/sqs`: the receiver sends each verified
 * envelope (still encrypted) to a queue and answers 200 at once; `createSqsBatchHandler` from
 * `kompliant-webhooks/lambda` is the worker. Needs the optional peer `@aws-sdk/client-sqs`;
 * no other entry point loads it.
 *
 * @packageDocumentation
 */
export { sqsInbox } from './integrations/sqs/inbox.js';
export type { SqsInboxOptions } from './integrations/sqs/inbox.js';
export type { Inbox, InboxMeta } from './inbox/inbox.js';
