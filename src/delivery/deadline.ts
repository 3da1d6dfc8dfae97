// Deadlines for waits the receiver does not control: a call that has not settled in time fails.

/**
 * Starts `call` (a throw becomes a rejection) and settles with it, or rejects with
 * `onTimeout()` when it has not settled after `ms`. The call itself is not cancelled: whoever
 * needs its late outcome keeps the promise `call` returned.
 */
export function withDeadline<T>(call: () => PromiseLike<T> | T, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    // A deadline never holds the process open (Node's timers have unref; other runtimes' may not).
    (timer as { unref?: () => void }).unref?.();
    new Promise<T>((start) => start(call())).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Whether `value` is a promise or another thenable, so that waiting for it needs a deadline. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
