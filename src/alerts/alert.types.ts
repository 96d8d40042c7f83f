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
  /**
   * The region a regional alert is about (its `institution` is then `null`); absent for an alert about
   * one institution.
   */
  readonly region?: RegionRef | undefined;
  /**
   * Why the alert stands (or, on a `resolved` transition, why it cleared): see {@link AlertExplanation}.
   * Absent on alerts stored before explanations existed.
   */
  readonly explanation?: AlertExplanation | undefined;
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

/** What a regional alert aggregates over: one county, one institution type city-wide, or the whole city. */
export const REGION_SCOPES = ['county', 'type', 'city'] as const;
export type RegionScope = (typeof REGION_SCOPES)[number];

/**
 * The region of a regional alert: `county` with the catalog's county code (`晋江市`), `type` with an
 * institution type code (`village_bank`, the type city-wide), or `city` with the code `*`. Its text form
 * `<scope>:<code>` (`county:晋江市`, `type:village_bank`, `city:*`) is the subject of the alert's fingerprint,
 * after the rule id and `*` for the institution (`bank_npl_region/*` then `/county:晋江市`).
 */
export interface RegionRef {
  readonly scope: RegionScope;
  readonly code: string;
}

/** A comparison as rule files write it: the value breaches when `value <op> threshold`. */
export type ComparisonOp = '>' | '>=' | '<' | '<=';

/**
 * One period of an alert's run as its explanation lists it: the metric's own value there (`null` where
 * the rule does not read it in that period, as an expression rule may not), the quantity judged where it
 * differs from the value (a change, a z-score, a projection; `null` where the value itself is judged),
 * and the submission the value came from (`null` for a regional aggregate or a filing not made).
 */
export interface ExplainedPeriod {
  readonly period: string;
  readonly value: number | null;
  readonly judged: number | null;
  readonly submission_id: number | null;
}

/** The kind-specific facts of an explanation, told apart by `kind` (the rule's kind). */
export type ExplanationDetail =
  | { readonly kind: 'threshold' }
  | {
      readonly kind: 'change';
      readonly compare: 'previous' | 'year_ago';
      readonly unit: 'points' | 'percent';
      /** The period compared with, and the metric's value there. */
      readonly reference: {
        readonly period: string;
        readonly value: number;
        readonly submission_id: number | null;
      } | null;
    }
  | {
      readonly kind: 'trend';
      readonly direction: 'increasing' | 'decreasing';
      /** Consecutive moves needed to fire (`periods` in the rule). */
      readonly required: number;
      /** The consecutive moves in the worse direction ending at the judged period (the last 24), oldest first. */
      readonly moves: readonly { readonly period: string; readonly from: number; readonly to: number }[];
    }
  | {
      readonly kind: 'projection';
      /** `ols_slope_from_latest`: the latest value plus the least-squares slope times the horizon. */
      readonly method: 'ols_slope_from_latest';
      readonly fit: number;
      readonly horizon: number;
      /** Per period, in the metric's unit. */
      readonly slope: number;
      readonly latest: number;
      readonly projected: number;
      /** The fitted window, oldest first. */
      readonly window: readonly { readonly period: string; readonly value: number }[];
    }
  | {
      readonly kind: 'expression';
      readonly mode: 'condition' | 'value';
      readonly expression: string;
      /** Each metric the expression reads, with its value in the judged period, in catalog order. */
      readonly inputs: readonly { readonly metric: string; readonly value: number }[];
    }
  | { readonly kind: 'missing_data'; readonly missing: string }
  | {
      readonly kind: 'missing_filing';
      readonly frequency: 'monthly' | 'quarterly';
      /** `YYYY-MM-DD`, in the regulator's zone. */
      readonly due_date: string;
      readonly days_overdue: number;
      /** The submission that filed the period, on a resolution; `null` while it is missing. */
      readonly filed_submission_id: number | null;
    }
  | {
      readonly kind: 'peer_outlier';
      readonly method: 'robust_z' | 'percentile';
      /** The peer group: institutions of `type` with a value in `period` (the judged one included). */
      readonly group: { readonly type: string; readonly period: string };
      readonly peers: number;
      readonly min_peers: number;
      readonly median: number;
      /** Median absolute deviation from the median (unscaled). */
      readonly mad: number;
      /** Mean absolute deviation from the median: the spread used when the MAD is 0. */
      readonly mean_ad: number;
      /**
       * robust_z: what `x − median` was divided by — `1.4826 × mad`, or `1.253314 × mean_ad` when the MAD
       * is 0, or `none` when every value equals the median (z is then 0); percentile: `none`.
       */
      readonly spread: { readonly basis: 'mad' | 'mean_ad' | 'none'; readonly value: number };
      /** Group values below and equal to the institution's (itself included), for the percentile rank. */
      readonly below: number;
      readonly equal: number;
      /** The statistic judged: z or the percentile rank. */
      readonly statistic: number;
      /** The formula, in words, so a reader can redo it. */
      readonly definition: string;
    }
  | {
      readonly kind: 'region_aggregate';
      readonly region: RegionRef;
      readonly name: Localized;
      readonly members: number;
      readonly min_members: number;
      readonly numerator: { readonly metric: string; readonly sum: number };
      readonly denominator: { readonly metric: string; readonly sum: number };
      readonly scale: number;
      /** The contributing submissions: how many, and their ids ascending (the first 50). */
      readonly submissions: { readonly count: number; readonly ids: readonly number[] | null };
    };

/**
 * Why an alert stands, for supervisors and the API: what was judged, against which threshold, by how
 * much, over which periods, from which submissions, under which rule and legal basis. Plain JSON
 * (strings, finite numbers, arrays, `null`; snake_case keys like the API) so it is stored as `jsonb` and
 * returned as it is; deterministic (made from the data only); bounded (at most
 * {@link EXPLAINED_PERIODS} periods, the latest ones).
 *
 * On a `resolved` transition the alert carries the explanation of what cleared it: the clearing period,
 * its value and a margin at or below 0 against the level it had to clear (the recovery level where set).
 */
export interface AlertExplanation {
  readonly rule: {
    readonly id: string;
    readonly kind: string;
    /** The legal basis in force: the override's `source` where an override set the levels. */
    readonly source: string;
    readonly reason: string | null;
  };
  /**
   * What was compared with the threshold: `name` is `value` (the metric itself), `change`,
   * `relative_change`, `moves`, `projected_value`, `expression`, `condition`, `missing`, `days_overdue`,
   * `robust_z`, `percentile_rank` or `aggregate`; `unit` is the catalog unit of the metric (`percent`,
   * `times`, `cny_10k`, `count`; a change in points is in it too, e.g. percentage points) or `percent_change`,
   * `periods`, `z`, `percentile`, `flag` (1 true, 0 false) or `days`.
   */
  readonly quantity: { readonly metric: string; readonly name: string; readonly unit: string };
  /** The period judged: the latest period of the (derived) series. */
  readonly period: string;
  readonly value: number;
  readonly op: ComparisonOp;
  readonly threshold: number;
  /**
   * How far `value` is beyond `threshold`, in the quantity's unit: `value − threshold` for `>`/`>=`,
   * `threshold − value` for `<`/`<=`. Positive on the breached side; 0 or below for an alert held by
   * `recovery` or `keep_firing_for`, and for a resolution.
   */
  readonly margin: number;
  /** The levels in effect in the judged period, lowest severity first. */
  readonly levels: readonly { readonly severity: Severity; readonly threshold: number }[];
  readonly recovery: number | null;
  /** The override that set these levels, if one did. */
  readonly override: {
    readonly source: string;
    readonly institutions: readonly string[] | null;
    readonly types: readonly string[] | null;
    readonly from: string | null;
    readonly until: string | null;
  } | null;
  /** The run: its first period, its length, the `for` it needs, and the last breach when kept firing. */
  readonly run: {
    readonly first_period: string;
    readonly periods: number;
    readonly for: number;
    readonly kept_since: string | null;
  };
  /** The periods from the run's first to the judged one, oldest first: the last {@link EXPLAINED_PERIODS}. */
  readonly periods: readonly ExplainedPeriod[];
  /** Earlier periods of the run left out of `periods`. */
  readonly periods_omitted: number;
  readonly detail: ExplanationDetail;
}

/** At most this many periods are listed in an explanation (the latest ones), to bound its size. */
export const EXPLAINED_PERIODS = 24;
