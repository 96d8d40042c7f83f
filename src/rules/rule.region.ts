import type { ActiveAlert, ExplanationDetail, Localized, RegionRef } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import { mustParsePeriod, parsePeriod } from '../catalog/period.js';
import type { InstitutionRef, Observation } from './evaluate.js';
import { fingerprintOf } from './rule.alert.js';
import { judgementOf } from './rule.derived.js';
import { continueExplanation, explainSeries } from './rule.explain.js';
import type { RuleOutcome } from './rule.filing.js';
import { regionKey, regionName, regionOfAlert, regionsOf } from './rule.region-ref.js';
import type { RegionTotal, RegionTotalsIndex } from './rule.region-totals.js';
import type { RegionAggregateRule } from './rule.schema.js';
import { coverageOf } from './rule.scope.js';
import { assessSeries } from './rule.series.js';
import { renderRegionSummary } from './rule.template.js';
import { thresholdsFor } from './rule.thresholds.js';
import { resolveAlert, stepAlert } from './rule.transition.js';
import { type EvaluationWindow, seedOf, windowFor } from './rule.window.js';

export { parseRegionKey, quotientOf } from './rule.region-ref.js';
export { aggregateRegions, indexRegionTotals, type RegionTotal } from './rule.region-totals.js';

/** What a region-aggregate evaluation reads besides the rule. */
export interface RegionContext {
  readonly catalog: Catalog;
  /** The evaluation's scope: the regions holding one of them are judged. */
  readonly institutions: ReadonlyMap<string, InstitutionRef>;
  readonly totals: RegionTotalsIndex;
  /** Previous regional alerts (institution `null`) by rule id. */
  readonly previousRegional: ReadonlyMap<string, readonly ActiveAlert[]>;
  /** A windowed evaluation's window (see `EvaluationInput.window`). */
  readonly window?: EvaluationWindow | undefined;
  readonly now: Date;
}

/** Whether a region is one the rule judges: a scope in its `by`, and for a type one of its types. */
function regionOfRule(rule: RegionAggregateRule, region: RegionRef): boolean {
  return rule.by.includes(region.scope) && (region.scope !== 'type' || rule.types.includes(region.code));
}

/**
 * Judges one region-aggregate rule in the regions that hold an institution of the scope the rule covers,
 * and in the regions of its previous alerts. Each region's series — Σ numerator / Σ denominator × scale
 * per period, a period with fewer than `min_members` members or a zero denominator being a gap — is
 * judged as a threshold rule judges values. A region without totals keeps its alert (no data never
 * resolves); a previous alert of a region the rule no longer has (a scope left out of `by`, a type
 * dropped) resolves.
 * @throws when the metric is not in the catalog, a total's period is not of its frequency, a number is
 *   not finite, a region has two totals for one period, or a template fails to render.
 */
export function evaluateRegionRule(rule: RegionAggregateRule, ctx: RegionContext): RuleOutcome {
  const metric = ctx.catalog.metrics.get(rule.metric);
  if (!metric) throw new Error(`metric ${rule.metric} is not in the catalog`);
  const { frequency } = metric;
  const judgement = judgementOf(rule);
  const thresholdsAt = thresholdsFor(judgement.rule, { code: '', type: '' });
  const windowed = windowFor(ctx.window, rule.kind, frequency);
  const outcome: RuleOutcome = { active: [], transitions: [], decided: [] };

  const previous = new Map<string, ActiveAlert>();
  for (const a of ctx.previousRegional.get(rule.id) ?? []) {
    const region = regionOfAlert(a);
    if (!region || !regionOfRule(rule, region)) {
      outcome.decided.push(a.fingerprint);
      outcome.transitions.push(resolveAlert(a, ctx.now));
      continue;
    }
    previous.set(regionKey(region), a);
  }
  const judged = new Map<string, RegionRef>();
  const covers = coverageOf(rule);
  for (const institution of ctx.institutions.values()) {
    if (!covers(institution)) continue;
    for (const region of regionsOf(rule, institution)) judged.set(regionKey(region), region);
  }
  for (const [key, a] of previous) if (!judged.has(key)) judged.set(key, regionOfAlert(a) as RegionRef);

  const ofRule = ctx.totals.get(rule.id);
  for (const [key, region] of [...judged].sort((a, b) => compare(a[0], b[0]))) {
    const prev = previous.get(key);
    if (prev) outcome.decided.push(prev.fingerprint);
    const totals = ofRule?.get(key);
    if (!totals || totals.length === 0) {
      if (prev) outcome.active.push(prev);
      continue;
    }
    const byPeriod = new Map<string, RegionTotal>();
    const watched: Observation[] = [];
    for (const t of totals) {
      const period = parsePeriod(t.period);
      if (!period || period.frequency !== frequency)
        throw new Error(`region ${key}: period ${JSON.stringify(t.period)} is not a ${frequency} period`);
      if (![t.numerator, t.denominator, t.members].every(Number.isFinite))
        throw new Error(`region ${key} ${t.period}: the totals are not finite numbers`);
      if (byPeriod.has(t.period)) throw new Error(`region ${key}: two totals for ${t.period}`);
      byPeriod.set(t.period, t);
      if (t.members < rule.min_members || t.denominator === 0) continue; // a gap
      const value = (t.numerator / t.denominator) * rule.components.scale;
      if (!Number.isFinite(value)) continue;
      watched.push({
        institution: key,
        metric: rule.metric,
        period: t.period,
        value: Number(value.toPrecision(12)),
        submissionId: null,
      });
    }
    const seed = windowed ? seedOf(prev, watched, windowed, false) : undefined;
    const assessment =
      seed === null ? undefined : assessSeries(judgement.rule, watched, frequency, thresholdsAt, seed);
    if (!assessment) {
      if (prev) outcome.active.push(prev);
      continue;
    }
    const name = regionName(ctx.catalog, region);
    const explained = explainSeries({
      rule,
      judged: judgement.rule,
      metric,
      assessment,
      thresholdsAtLatest: thresholdsAt(mustParsePeriod(assessment.latest.period)),
      watched,
      observed: undefined,
      frequency,
      detail: regionDetail(rule, region, name, byPeriod.get(assessment.latest.period) as RegionTotal),
    });
    if (!assessment.breached) {
      if (prev) outcome.transitions.push(resolveAlert(prev, ctx.now, assessment.latest, explained));
      continue;
    }
    const { latest, kept } = assessment;
    const why = seed ? continueExplanation(prev, explained, assessment) : explained;
    const described = kept && 'describedBy' in kept ? undefined : (kept ?? latest);
    const facts = described ? (byPeriod.get(described.period) as RegionTotal) : undefined;
    const summary =
      !described || !facts
        ? // Kept firing after a breach before a windowed evaluation's window: described as it was then.
          (kept as { describedBy: ActiveAlert }).describedBy.summary
        : renderRegionSummary(rule.summary, {
            region: key,
            regionName: name,
            members: facts.members,
            numerator: facts.numerator,
            denominator: facts.denominator,
            metric: rule.metric,
            metricName: metric.name,
            unit: metric.unit,
            value: described.value,
            threshold: assessment.level.threshold,
            period: described.period,
            firstPeriod: assessment.firstPeriod,
            periods: assessment.periods,
            severity: assessment.level.severity,
          });
    const step = stepAlert(
      prev,
      {
        fingerprint: prev?.fingerprint ?? fingerprintOf(rule.id, null, key),
        ruleId: rule.id,
        institution: null,
        region,
        metric: rule.metric,
        state: assessment.firing ? 'firing' : 'pending',
        severity: assessment.level.severity,
        value: latest.value,
        threshold: assessment.level.threshold,
        period: latest.period,
        firstPeriod: assessment.firstPeriod,
        periods: assessment.periods,
        submissionId: null,
        summary,
        source: rule.source,
        explanation: why,
      },
      ctx.now,
    );
    outcome.active.push(step.alert);
    if (step.transition) outcome.transitions.push(step.transition);
  }
  return outcome;
}

/** At most this many submission ids are listed in an explanation; `count` gives them all. */
const LISTED_SUBMISSIONS = 50;

function regionDetail(
  rule: RegionAggregateRule,
  region: RegionRef,
  name: Localized,
  total: RegionTotal,
): ExplanationDetail {
  const ids = total.submissionIds;
  return {
    kind: 'region_aggregate',
    region: { scope: region.scope, code: region.code },
    name,
    members: total.members,
    min_members: rule.min_members,
    numerator: { metric: rule.components.numerator, sum: total.numerator },
    denominator: { metric: rule.components.denominator, sum: total.denominator },
    scale: rule.components.scale,
    submissions: {
      count: ids?.length ?? total.members,
      ids: ids ? ids.slice(0, LISTED_SUBMISSIONS) : null,
    },
  };
}

/** Code-unit order, independent of the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
