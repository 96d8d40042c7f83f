import type { AlertState } from './alert.types.js';

/**
 * The labels silences and inhibit rules match on, in Alertmanager's sense: every alert has `rule`,
 * `kind` (its rule's kind, e.g. `threshold`, `missing_filing`), `severity`, `metric` and `period`; an
 * institution's alert also `institution`, `institution_type` and `county`; a regional alert `region`
 * (`county:晋江市`) instead. A regional alert has no institution type or county, as in recipient routes.
 */
export const ALERT_LABELS = [
  'rule',
  'kind',
  'severity',
  'metric',
  'period',
  'institution',
  'institution_type',
  'county',
  'region',
] as const;
export type AlertLabel = (typeof ALERT_LABELS)[number];

/** An alert's labels; a label the alert does not carry is absent. */
export type AlertLabels = Readonly<Partial<Record<AlertLabel, string>>>;

/** An alert as suppression sees it: its id, its state and its labels. */
export interface LabelledAlert {
  readonly id: number;
  readonly state: AlertState;
  readonly labels: AlertLabels;
}

/** What the labels are made from: the alert, its institution (if any) and its rule's kind (if loaded). */
export interface LabelSource {
  readonly ruleId: string;
  readonly severity: string;
  readonly metric: string;
  readonly period: string;
  readonly institution: string | null;
  /** `county:<code>`, `type:<code>` or `city:*`; null or absent for an institution's alert. */
  readonly region?: string | null | undefined;
  readonly institutionType?: string | null | undefined;
  readonly county?: string | null | undefined;
  /** Absent when the rule is no longer loaded. */
  readonly ruleKind?: string | undefined;
}

/** The labels of an alert; empty values are left out, so a missing label never equals another. */
export function alertLabels(source: LabelSource): AlertLabels {
  const labels: Partial<Record<AlertLabel, string>> = {
    rule: source.ruleId,
    kind: source.ruleKind,
    severity: source.severity,
    metric: source.metric,
    period: source.period,
    institution: source.institution ?? undefined,
    institution_type: source.institutionType ?? undefined,
    county: source.county ?? undefined,
    region: source.region ?? undefined,
  };
  for (const key of ALERT_LABELS) if (!labels[key]) delete labels[key];
  return labels;
}
