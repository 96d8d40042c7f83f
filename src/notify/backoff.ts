/** Parameters of the retry schedule. */
export interface BackoffOptions {
  /** Cap of the first retry's delay. */
  readonly baseDelayMs: number;
  /** No delay ever exceeds this. */
  readonly maxDelayMs: number;
}

/**
 * Delay before retry number `attempt` (1 after the first failed attempt): exponential backoff with
 * full jitter, `random() * min(maxDelayMs, baseDelayMs * 2^(attempt-1))`. Full jitter spreads the
 * replicas' retries after a relay outage instead of having them all hit it again at once.
 * @param random a uniform number in [0, 1); injected so tests are deterministic.
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  // Capping the exponent keeps 2^n finite; by 2^30 any sane cap has long been reached.
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}
