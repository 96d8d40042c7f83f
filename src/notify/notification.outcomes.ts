import type { DispatchOutcome, DispatchReason } from './dispatcher.js';

/**
 * Every (outcome, reason) pair the dispatcher reports, `none` for a plain delivery: the label values of
 * `riskwatch_notifications_total`, initialised to 0 per route so that `increase()` sees the first one.
 */
export const OUTCOME_REASONS: ReadonlyArray<readonly [DispatchOutcome, DispatchReason | 'none']> = [
  ['sent', 'none'],
  ['sent', 'partial'],
  ['retry', 'transient'],
  ['retry', 'render_error'],
  ['failed', 'rejected'],
  ['failed', 'max_attempts'],
  ['failed', 'invalid_payload'],
];
