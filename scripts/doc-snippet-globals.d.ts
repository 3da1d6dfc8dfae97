// Ambient declarations for the docs' code blocks: what belongs to the reader's own application.
// Used only by scripts/check-doc-snippets.ts (npm run docs:check), never by the library or its tests.
import type { Express } from 'express';
import type { KeyStore, KompliantEvent } from 'kompliant-webhooks';

/** A pino-like logger: any fields object and a message. */
interface AppLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

declare global {
  /** The reader's Express app. */
  const app: Express;
  /** The reader's key store (see docs/key-stores.md). */
  const keyStore: KeyStore;
  /** The reader's event handler. */
  const onEvent: (event: KompliantEvent) => Promise<void>;
  const handle: (event: KompliantEvent) => Promise<void>;
  const save: (event: KompliantEvent) => Promise<void>;
  /** A database client. */
  const db: {
    events: { insert(row: Record<string, unknown>): Promise<void> };
    query(sql: string, params: readonly unknown[]): Promise<{ shared_secret: string } | undefined>;
  };
  /** A job queue, an outbound queue, a domain service. */
  const jobs: { enqueue(eventType: string, data: unknown): Promise<void> };
  const queue: { send(event: KompliantEvent): Promise<void> };
  const orders: { apply(data: unknown): Promise<void> };
  const search: { reindex(data: unknown): Promise<void> };
  const approve: (subjectRecordId: string) => Promise<void>;
  const audit: (id: string, eventType: string) => void;
  /** A pino-like logger and a metrics client. */
  const logger: AppLogger;
  const log: AppLogger;
  const metrics: { increment(name: string, labels: Record<string, string>): void };
  /** A queue message, its acknowledgement, and a captured request body. */
  const message: { body: string };
  const ack: (status: number) => void;
  const capturedBody: string;
}
