/**
 * Test helpers: make secrets and encrypted envelopes exactly as Kompliant does, to unit-test
 * your handlers (with supertest or the receiver) without a sender.
 *
 * @packageDocumentation
 */
export { createTestWebhook, generateSharedSecret, randomId, samplePayload, sealData } from './sealing/seal.js';
export type { CreateTestWebhookOptions } from './sealing/seal.js';
export { sampleEvent } from './events/samples.js';
export type { SampleData, SampleOverrides } from './events/samples.js';
export { memoryInbox } from './inbox/inbox.js';
export type { InboxJob, MemoryInbox } from './inbox/inbox.js';
