import type { MetricDef } from '../catalog/catalog.schema.js';
import type { InstitutionRef } from './evaluate.js';
import type { PeerOutlierRule, SeriesKindRule } from './rule.schema.js';
import type { Assessment, SeriesRule } from './rule.series.js';
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
 * The alert a breaching assessment calls for: `firing` once the run of breaching periods reaches the
 * rule's `for`, `pending` before; value and period from the latest observation, threshold and severity
 * from the level breached. An alert kept firing after its condition cleared (`keep_firing_for`) shows
 * the latest value, and its summary describes the last breach. Where an override sets this
 * institution's levels, its `source` is the alert's legal basis.
 * @throws when a summary template cannot be rendered.
 */
export function computeAlert(
  fingerprint: string,
  rule: SeriesKindRule | PeerOutlierRule,
  /** The threshold parts the (derived) series was judged with: `for` comes from here. */
  judged: Pick<SeriesRule, 'for'>,
  metric: MetricDef,
  institution: InstitutionRef,
  assessment: Extract<Assessment, { breached: true }>,
  /** The metric's own latest value, for a rule that judges something derived from it. */
  current?: number,
  /** Placeholders of the rule's kind beyond a series rule's (a peer group's median, …). */
  extra?: SummaryFacts['extra'],
): ComputedAlert {
  const { latest, level, periods, firstPeriod, thresholds, kept } = assessment;
  const described = kept ?? latest;
  const summary = renderSummary(rule.summary, {
    institution: institution.code,
    institutionName: institution.name,
    metric: rule.metric,
    metricName: metric.name,
    unit: metric.unit,
    value: described.value,
    threshold: level.threshold,
    period: described.period,
    firstPeriod,
    periods,
    severity: level.severity,
    current,
    extra,
  });
  return {
    fingerprint,
    ruleId: rule.id,
    institution: institution.code,
    metric: rule.metric,
    state: kept || periods >= judged.for ? 'firing' : 'pending',
    severity: level.severity,
    value: latest.value,
    threshold: level.threshold,
    period: latest.period,
    firstPeriod,
    periods,
    submissionId: latest.submissionId,
    summary,
    source: thresholds.override?.source ?? rule.source,
  };
}
