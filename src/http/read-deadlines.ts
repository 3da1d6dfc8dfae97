// Body read deadlines: one shared coarse timer per timeout value instead of a timer per request.

/** One body being read; `expire` is called by the shared deadline sweep. */
export interface PendingRead {
  deadline: number;
  expire(): void;
}

/**
 * The read deadlines of every body being read with the same `readTimeoutMs`: one shared, coarse
 * interval timer (a tick of an eighth of the deadline) instead of a timer per request. A read
 * expires between `readTimeoutMs` and `readTimeoutMs` plus one tick after it started. Reads are
 * kept in start order, which is deadline order, so a sweep stops at the first one still in time.
 * The timer stops at the first sweep that finds nothing to watch, and never holds the process open.
 */
export class ReadDeadlines {
  private readonly pending = new Set<PendingRead>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly tickMs: number;

  constructor(private readonly timeoutMs: number) {
    this.tickMs = Math.max(1, Math.ceil(timeoutMs / 8));
  }

  watch(read: PendingRead): void {
    read.deadline = performance.now() + this.timeoutMs;
    this.pending.add(read);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      // Node's timers have unref(); Workers, Deno and browsers return a number or an object without it.
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  forget(read: PendingRead): void {
    this.pending.delete(read);
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = performance.now();
    for (const read of this.pending) {
      if (read.deadline > now) break;
      this.pending.delete(read);
      read.expire();
    }
  }
}

const deadlinesByTimeout = new Map<number, ReadDeadlines>();

/** The shared {@link ReadDeadlines} for `timeoutMs`. */
export function readDeadlines(timeoutMs: number): ReadDeadlines {
  let deadlines = deadlinesByTimeout.get(timeoutMs);
  if (deadlines === undefined) {
    deadlines = new ReadDeadlines(timeoutMs);
    deadlinesByTimeout.set(timeoutMs, deadlines);
  }
  return deadlines;
}
