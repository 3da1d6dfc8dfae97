// Calls a user's error hook without letting it change the answer.

/** Calls a user's error hook, ignoring anything it throws. */
export function notifyError<A extends unknown[]>(hook: ((...args: A) => void) | undefined, ...args: A): void {
  if (hook === undefined) return;
  try {
    hook(...args);
  } catch {
    // A broken logging hook must not change the answer.
  }
}
