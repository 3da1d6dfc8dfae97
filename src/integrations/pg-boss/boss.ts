// The part of a pg-boss instance the inbox uses, typed structurally so this module never imports pg-boss.

/** A job as pg-boss hands it to a worker. */
export interface PgBossJob {
  id: string;
  data: unknown;
}

/**
 * The methods of a `PgBoss` instance (pg-boss 12 or later) the inbox uses. Pass your started
 * instance; this package never imports `pg-boss` (an optional peer).
 */
export interface PgBossLike {
  createQueue(name: string, options?: object): Promise<void>;
  send(name: string, data: object, options?: object): Promise<string | null>;
  work(name: string, options: object, handler: (jobs: PgBossJob[]) => Promise<unknown>): Promise<string>;
  offWork(name: string, options?: object): Promise<void>;
}

/** The default queue name. */
export const DEFAULT_QUEUE = 'kompliant-webhooks';

// pg-boss's own rule for queue names, checked when the inbox is built rather than at the first delivery.
const QUEUE_NAME = /^[\w.\-/]{1,60}$/;

/** The queue name, checked (a TypeError naming `option` otherwise). */
export function checkQueueName(value: unknown, option: string): string {
  if (value === undefined) return DEFAULT_QUEUE;
  if (typeof value !== 'string' || !QUEUE_NAME.test(value)) {
    throw new TypeError(`${option} must be 1 to 60 letters, digits, "_", "-", "." or "/"`);
  }
  return value;
}

/** The dead-letter queue of `queue`. */
export function deadLetterQueue(queue: string): string {
  return `${queue}.dead`;
}

/** Checks that `boss` looks like a PgBoss instance. */
export function checkBoss(boss: unknown, caller: string): PgBossLike {
  const candidate = boss as Partial<PgBossLike> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.send !== 'function' ||
    typeof candidate.work !== 'function' ||
    typeof candidate.createQueue !== 'function' ||
    typeof candidate.offWork !== 'function'
  ) {
    throw new TypeError(`${caller}: boss must be a started PgBoss instance (pg-boss 12 or later)`);
  }
  return candidate as PgBossLike;
}

/** Queue settings shared by the inbox and the worker; each is pg-boss's own queue option. */
export interface InboxQueueOptions {
  /** Retries before a job moves to the dead-letter queue (`<queue>.dead`). Default 25. */
  retryLimit?: number;
  /** First retry delay in seconds; doubles each retry (pg-boss `retryBackoff`). Default 10. */
  retryDelaySeconds?: number;
  /** Longest retry delay in seconds. Default 3600. */
  retryDelayMaxSeconds?: number;
  /** How long one attempt may run before pg-boss retries it (the worker's time limit). Default 900. */
  expireInSeconds?: number;
  /**
   * How long completed and dead-lettered jobs are kept (they are decryptable while their key is
   * kept). Default 7 days.
   */
  retentionSeconds?: number;
  /** Deliver the jobs of one `subject_record_id` in order (pg-boss `key_strict_fifo`). Default false. */
  orderBySubject?: boolean;
}

const QUEUE_OPTION_DEFAULTS = {
  retryLimit: 25,
  retryDelaySeconds: 10,
  retryDelayMaxSeconds: 3600,
  expireInSeconds: 900,
  retentionSeconds: 7 * 24 * 3600,
} as const;

/** The checked queue settings. */
export type ResolvedQueueOptions = Required<InboxQueueOptions>;

export function resolveQueueOptions(options: InboxQueueOptions, caller: string): ResolvedQueueOptions {
  const resolved = { ...QUEUE_OPTION_DEFAULTS, orderBySubject: false };
  for (const name of Object.keys(QUEUE_OPTION_DEFAULTS) as (keyof typeof QUEUE_OPTION_DEFAULTS)[]) {
    const value = options[name];
    if (value === undefined) continue;
    const min = name === 'retryLimit' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new TypeError(`${caller}: ${name} must be an integer >= ${min}`);
    }
    resolved[name] = value as never;
  }
  if (options.orderBySubject !== undefined && typeof options.orderBySubject !== 'boolean') {
    throw new TypeError(`${caller}: orderBySubject must be a boolean`);
  }
  resolved.orderBySubject = options.orderBySubject ?? false;
  return resolved;
}

/** Creates the queue and its dead-letter queue when missing (pg-boss's createQueue keeps an existing one). */
export async function ensureQueues(boss: PgBossLike, queue: string, options: ResolvedQueueOptions): Promise<void> {
  const dead = deadLetterQueue(queue);
  await boss.createQueue(dead, { retentionSeconds: options.retentionSeconds, deleteAfterSeconds: options.retentionSeconds });
  await boss.createQueue(queue, {
    policy: options.orderBySubject ? 'key_strict_fifo' : 'standard',
    deadLetter: dead,
    retryLimit: options.retryLimit,
    retryDelay: options.retryDelaySeconds,
    retryBackoff: true,
    retryDelayMax: options.retryDelayMaxSeconds,
    expireInSeconds: options.expireInSeconds,
    deleteAfterSeconds: options.retentionSeconds,
  });
}
