// A Lambda invocation's own deadline: what is left of it caps the delivery's deadline.

/** The part of the Lambda context object the adapters read (`Context` from `@types/aws-lambda` fits). */
export interface LambdaContextLike {
  /** Milliseconds left before Lambda ends the invocation. */
  getRemainingTimeInMillis(): number;
}

/** Default of `invocationMarginMs`: 1 s. */
export const DEFAULT_INVOCATION_MARGIN_MS = 1000;

/**
 * The delivery deadline an invocation leaves: its remaining time less `marginMs`, or undefined when
 * the context gives no remaining time (a test calling the handler directly).
 */
export function invocationDeadline(context: LambdaContextLike | undefined, marginMs: number): number | undefined {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined;
  const remaining = context.getRemainingTimeInMillis();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return Math.max(1, remaining - marginMs);
}

// Every shared adapter option except the read deadline: the body arrives whole.
