// Body read deadlines: one shared coarse timer per timeout value instead of a timer per request.

/**
 * One body being read; `expire` is called by the shared deadline sweep. `earlier` and `later`
 * link the reads a {@link ReadDeadlines} watches: only it sets them (declare them as
 * `undefined` in classes, so every read keeps one shape).
 */
export interface PendingRead {
  deadline: number;
  expire(): void;
  earlier?: PendingRead | undefined;
  later?: PendingRead | undefined;
}

/**
 * The read deadlines of every body being read with the same `readTimeoutMs`: one shared, coarse
 * interval timer (a tick of an eighth of the deadline) instead of a timer per request. A read
 * expires between `readTimeoutMs` and `readTimeoutMs` plus one tick after it started. Reads are
 * kept in start order, which is deadline order, so a sweep stops at the first one still in time.
 * The timer stops at the first sweep that finds nothing to watch, and never holds the process open.
 *
 * The reads form a list linked through the reads themselves, not a `Set`: a long-lived `Set`
 * that gains and loses a young object per request made every young-generation collection
 * costlier (in one in-process measurement, about 5 us of garbage collection per request); a
 * list keeps only its two ends in this object, and a read leaves it with its links cleared.
 */
export class ReadDeadlines {
  private first: PendingRead | undefined;
  private last: PendingRead | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly tickMs: number;

  constructor(private readonly timeoutMs: number) {
    this.tickMs = Math.max(1, Math.ceil(timeoutMs / 8));
  }

  watch(read: PendingRead): void {
    read.deadline = performance.now() + this.timeoutMs;
    read.earlier = this.last;
    read.later = undefined;
    if (this.last === undefined) this.first = read;
    else this.last.later = read;
    this.last = read;
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      // Node's timers have unref(); Workers, Deno and browsers return a number or an object without it.
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Stops watching `read`; a read not watched (or already expired) is left as it is. */
  forget(read: PendingRead): void {
    if (read.earlier === undefined && this.first !== read) return;
    if (read.earlier === undefined) this.first = read.later;
    else read.earlier.later = read.later;
    if (read.later === undefined) this.last = read.earlier;
    else read.later.earlier = read.earlier;
    read.earlier = undefined;
    read.later = undefined;
  }

  private sweep(): void {
    if (this.first === undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = performance.now();
    while (this.first !== undefined && this.first.deadline <= now) {
      const read = this.first;
      this.forget(read);
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
