/** Alert severities, lowest first; a higher index outranks a lower one. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Alert states, in Prometheus's words. `inactive` alerts are not stored. */
export const ALERT_STATES = ['pending', 'firing', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export type ActiveState = Exclude<AlertState, 'resolved'>;

/** Bilingual text; zh-CN is the default language of the service. */
export interface Localized {
  readonly zh: string;
  readonly en: string;
}

/** Rank of a severity for comparisons (`critical` > `warning` > `info`). */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/**
 * An alert that is pending or firing, as the evaluator sees and returns it. Identified by its
 * fingerprint (rule, institution or region, metric), which is stable across evaluations.
 */
export interface ActiveAlert {
  readonly fingerprint: string;
  readonly ruleId: string;
  /** Institution code; `null` for a regional alert. */
  readonly institution: string | null;
  readonly metric: string;
  readonly state: ActiveState;
  readonly severity: Severity;
  /** The observed value in the latest evaluated period. */
  readonly value: number;
  /** The threshold of the severity level breached. */
  readonly threshold: number;
  /** The latest period evaluated. */
  readonly period: string;
  /** The first period of the current run of breaching periods. */
  readonly firstPeriod: string;
  /** Consecutive breaching periods up to `period`. */
  readonly periods: number;
  /** The submission the latest value came from. */
  readonly submissionId: number | null;
  readonly summary: Localized;
  /** Legal basis of the rule. */
  readonly source: string;
  readonly startedAt: Date;
  readonly firedAt: Date | null;
}

/** What happened to an alert in one evaluation. `updated` is a new period with the same state and severity. */
export const TRANSITION_KINDS = [
  'pending',
  'firing',
  'escalated',
  'deescalated',
  'resolved',
  'updated',
] as const;
export type TransitionKind = (typeof TRANSITION_KINDS)[number];

/** One change of an alert, produced by the evaluator and recorded as an alert event. */
export interface Transition {
  readonly kind: TransitionKind;
  readonly from: ActiveState | null;
  readonly to: AlertState;
  /** The alert after the change; for `resolved`, its last active values with the resolving period and value. */
  readonly alert: ActiveAlert;
  readonly at: Date;
}

/** Transitions worth a notification; `pending` and `updated` are recorded but not sent. */
export const NOTIFIED_KINDS: ReadonlySet<TransitionKind> = new Set([
  'firing',
  'escalated',
  'deescalated',
  'resolved',
]);
