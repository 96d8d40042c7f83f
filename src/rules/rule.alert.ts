import type { MetricDef } from '../catalog/catalog.schema.js';
import type { InstitutionRef } from './evaluate.js';
import { trendCount } from './rule.derived.js';
import type { PeerOutlierRule, SeriesKindRule } from './rule.schema.js';
import type { Assessment } from './rule.series.js';
import { renderSummary, type SummaryFacts } from './rule.template.js';
import type { ComputedAlert } from './rule.transition.js';

/**
 * The stable identity of an alert: `rule/institution/subject`, `*` standing for a regional alert. The
 * subject is the metric for a threshold rule and the period for a missing-filing rule.
 */
export function fingerprintOf(ruleId: string, institution: string | null, subject: string): string {
  return `${ruleId}/${institution ?? '*'}/${subject}`;
}

/**
 * The alert a breaching assessment calls for, `firing` or `pending` as the assessment says; value and
 * period from the latest observation, threshold and severity
 * from the level breached. An alert kept firing after its condition cleared (`keep_firing_for`) shows
 * the latest value, and its summary describes the last breach. Where an override sets this
 * institution's levels, its `source` is the alert's legal basis.
 * @throws when a summary template cannot be rendered.
 */
export function computeAlert(
  fingerprint: string,
  rule: SeriesKindRule | PeerOutlierRule,
  metric: MetricDef,
  institution: InstitutionRef,
  assessment: Extract<Assessment, { breached: true }>,
  /**
   * The metric's own value in a period, for a rule that judges something derived from it: the summary
   * describes the latest period, or the last breach of an alert kept firing.
   */
  currentIn?: (period: string) => number | undefined,
  /** Placeholders of the rule's kind beyond a series rule's (a peer group's median, …). */
  extra?: SummaryFacts['extra'],
): ComputedAlert {
  const { latest, level, periods, firstPeriod, thresholds, kept } = assessment;
  const common = {
    fingerprint,
    ruleId: rule.id,
    institution: institution.code,
    metric: rule.metric,
    state: assessment.firing ? ('firing' as const) : ('pending' as const),
    severity: level.severity,
    threshold: level.threshold,
    period: latest.period,
    firstPeriod,
    periods,
    submissionId: latest.submissionId,
  };
  if (kept && 'describedBy' in kept) {
    // Kept firing after a breach before a windowed evaluation's window: described as it was then.
    return {
      ...common,
      value: latest.value,
      summary: kept.describedBy.summary,
      source: kept.describedBy.source,
    };
  }
  const described = kept ?? latest;
  // A trend's derived series counts moves only up to N; the run's length says how many there were.
  const describedValue = rule.kind === 'trend' ? trendCount(rule, periods) : described.value;
  const summary = renderSummary(rule.summary, {
    institution: institution.code,
    institutionName: institution.name,
    metric: rule.metric,
    metricName: metric.name,
    unit: metric.unit,
    value: describedValue,
    threshold: level.threshold,
    period: described.period,
    firstPeriod,
    periods,
    severity: level.severity,
    current: currentIn?.(described.period),
    extra,
  });
  return {
    ...common,
    value: rule.kind === 'trend' && !kept ? describedValue : latest.value,
    summary,
    source: thresholds.override?.source ?? rule.source,
  };
}
