import {
  type ActiveAlert,
  type ExplanationDetail,
  type Localized,
  REGION_SCOPES,
  type RegionRef,
  type RegionScope,
} from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import { mustParsePeriod, parsePeriod } from '../catalog/period.js';
import type { InstitutionRef, Observation } from './evaluate.js';
import { fingerprintOf } from './rule.alert.js';
import { ruleApplies } from './rule.applies.js';
import { judgementOf } from './rule.derived.js';
import { explainSeries } from './rule.explain.js';
import type { RuleOutcome } from './rule.filing.js';
import type { RegionAggregateRule, RegionComponents, Rule } from './rule.schema.js';
import { assessSeries } from './rule.series.js';
import { renderRegionSummary } from './rule.template.js';
import { thresholdsFor } from './rule.thresholds.js';
import { resolveAlert, stepAlert } from './rule.transition.js';

/**
 * The sums of one region-aggregate rule's members in one region and period. Members are the
 * institutions the rule covers (its types) in the region that have, in the period, a current value of
 * both the numerator and the denominator metric; see `aggregateRegions` for the exact definition, which
 * a SQL query computing the same totals must follow.
 */
export interface RegionTotal {
  /** The rule: its types and components decide who the members are. */
  readonly ruleId: string;
  readonly scope: RegionScope;
  /** The county code, the institution type code, or `*` for the city. */
  readonly code: string;
  readonly period: string;
  /** Σ of the members' numerator values (e.g. NPL balances). */
  readonly numerator: number;
  /** Σ of the members' denominator values (e.g. total loans). */
  readonly denominator: number;
  /** How many institutions contributed. */
  readonly members: number;
  /** The contributing submissions (one per member), ascending; optional: `members` counts them anyway. */
  readonly submissionIds?: readonly number[] | undefined;
}

/** The text form of a region, `<scope>:<code>`: `county:晋江市`, `type:village_bank`, `city:*`. */
export function regionKey(region: RegionRef): string {
  return `${region.scope}:${region.code}`;
}

/** Parses `<scope>:<code>`; `undefined` for text that is not one (an unknown scope, an empty code). */
export function parseRegionKey(text: string): RegionRef | undefined {
  const colon = text.indexOf(':');
  const scope = text.slice(0, colon) as RegionScope;
  const code = text.slice(colon + 1);
  if (colon < 0 || !REGION_SCOPES.includes(scope) || code === '') return undefined;
  if (scope === 'city' && code !== '*') return undefined;
  return { scope, code };
}

/** The regions an institution belongs to for a rule, in the rule's `by` order. */
export function regionsOf(
  rule: Pick<RegionAggregateRule, 'by'>,
  institution: Pick<InstitutionRef, 'type' | 'county'>,
): RegionRef[] {
  return rule.by.map((scope) => ({
    scope,
    code: scope === 'county' ? institution.county : scope === 'type' ? institution.type : '*',
  }));
}

/** A region's name, zh and en: the county's, the type's, or the whole city. */
export function regionName(catalog: Catalog, region: RegionRef): Localized {
  switch (region.scope) {
    case 'county':
      return { zh: region.code, en: catalog.counties.get(region.code)?.en ?? region.code };
    case 'type':
      return catalog.types.get(region.code)?.name ?? { zh: region.code, en: region.code };
    case 'city':
      return { zh: '全市', en: 'the whole city' };
  }
}

/** Whether a region is one the rule judges: a scope in its `by`, and for a type one of its types. */
function regionOfRule(rule: RegionAggregateRule, region: RegionRef): boolean {
  return rule.by.includes(region.scope) && (region.scope !== 'type' || rule.types.includes(region.code));
}

const ID = '([a-z][a-z0-9_]*)';
const NUM = '(\\d+(?:\\.\\d+)?)';
/** Plain quotients, spaces removed: the groups give numerator, denominator and scale at these places. */
const QUOTIENTS: readonly [RegExp, number, number, number | null][] = [
  [new RegExp(`^${ID}/${ID}$`), 1, 2, null],
  [new RegExp(`^\\(${ID}/${ID}\\)$`), 1, 2, null],
  [new RegExp(`^${ID}/${ID}\\*${NUM}$`), 1, 2, 3],
  [new RegExp(`^\\(${ID}/${ID}\\)\\*${NUM}$`), 1, 2, 3],
  [new RegExp(`^${NUM}\\*${ID}/${ID}$`), 2, 3, 1],
  [new RegExp(`^${NUM}\\*\\(${ID}/${ID}\\)$`), 2, 3, 1],
];

/**
 * The components of a plain-quotient formula — `a / b`, optionally times a positive number (`a / b *
 * 100.0`, `(a / b) * 100.0`, `100.0 * a / b`) — or `undefined` for any other formula.
 */
export function quotientOf(formula: string): RegionComponents | undefined {
  const text = formula.replace(/\s+/g, '');
  for (const [pattern, n, d, k] of QUOTIENTS) {
    const m = pattern.exec(text);
    if (!m) continue;
    const scale = k === null ? 1 : Number(m[k]);
    if (!(scale > 0)) return undefined;
    return { numerator: m[n] as string, denominator: m[d] as string, scale };
  }
  return undefined;
}

/**
 * The totals of every region-aggregate rule among `rules`, from current observations. Pure; the service
 * computes the same in SQL. For each such rule R, with components N / D × scale and types T:
 *
 * - **Candidates**: every institution in `institutions` (the whole population, not an evaluation's
 *   scope) that R covers: its type is in T (`ruleApplies`).
 * - **Members in period P**: candidates with an observation of N and of D for the period text P (current
 *   versions; reported or derived alike; the newest submission where two share a period), both finite.
 * - **Regions**: a member counts in its county (`county:<its county>`), its type (`type:<its type>`) and
 *   the city (`city:*`), for each scope in R's `by`.
 * - **A total** per (R, scope, code, P) with at least one member: Σ N, Σ D, the member count and the
 *   members' submission ids (distinct, ascending). `min_members` and a zero denominator are not applied
 *   here: the evaluator makes those periods gaps.
 *
 * Sums run over members in institution-code order, so the same data always gives the same bits. Rules
 * whose metric or components are not in the catalog get no totals (their evaluation reports the error).
 * Sorted by rule id, scope (county, type, city), code and period.
 */
export function aggregateRegions(
  rules: readonly Rule[],
  catalog: Catalog,
  institutions: readonly InstitutionRef[],
  observations: readonly Observation[],
): RegionTotal[] {
  const regionRules = rules.filter(
    (r): r is RegionAggregateRule =>
      r.kind === 'region_aggregate' &&
      catalog.metrics.has(r.metric) &&
      catalog.metrics.has(r.components.numerator) &&
      catalog.metrics.has(r.components.denominator),
  );
  if (regionRules.length === 0) return [];
  const wanted = new Set(regionRules.flatMap((r) => [r.components.numerator, r.components.denominator]));
  // metric → institution → period → newest observation
  const index = new Map<string, Map<string, Map<string, Observation>>>();
  // Observations usually come grouped by institution and metric: remember the last map written.
  let last: { metric: string; institution: string; map: Map<string, Observation> } | undefined;
  for (const o of observations) {
    if (!wanted.has(o.metric) || !Number.isFinite(o.value)) continue;
    let ofInstitution: Map<string, Observation> | undefined;
    if (last && last.metric === o.metric && last.institution === o.institution) ofInstitution = last.map;
    else {
      let ofMetric = index.get(o.metric);
      if (!ofMetric) {
        ofMetric = new Map();
        index.set(o.metric, ofMetric);
      }
      ofInstitution = ofMetric.get(o.institution);
      if (!ofInstitution) {
        ofInstitution = new Map();
        ofMetric.set(o.institution, ofInstitution);
      }
      last = { metric: o.metric, institution: o.institution, map: ofInstitution };
    }
    const seen = ofInstitution.get(o.period);
    if (!seen || (o.submissionId ?? -1) >= (seen.submissionId ?? -1)) ofInstitution.set(o.period, o);
  }
  const population = [...new Map(institutions.map((i) => [i.code, i])).values()].sort((a, b) =>
    compare(a.code, b.code),
  );

  const totals: RegionTotal[] = [];
  for (const rule of regionRules) {
    const numerators = index.get(rule.components.numerator);
    const denominators = index.get(rule.components.denominator);
    // region key → period → running sums; keys made once per institution, not per observation.
    const sums = new Map<string, { region: RegionRef; byPeriod: Map<string, Sum> }>();
    for (const institution of population) {
      if (!ruleApplies(rule, institution)) continue;
      const ns = numerators?.get(institution.code);
      const ds = denominators?.get(institution.code);
      if (!ns || !ds) continue;
      const regions = regionsOf(rule, institution).map((region) => {
        const key = regionKey(region);
        let of = sums.get(key);
        if (!of) {
          of = { region, byPeriod: new Map() };
          sums.set(key, of);
        }
        return of.byPeriod;
      });
      for (const [period, n] of ns) {
        const d = ds.get(period);
        if (!d) continue;
        for (const byPeriod of regions) {
          let sum = byPeriod.get(period);
          if (!sum) {
            sum = { n: 0, d: 0, members: 0, ids: [] };
            byPeriod.set(period, sum);
          }
          sum.n += n.value;
          sum.d += d.value;
          sum.members++;
          // A member's two figures come from its one current submission for the period, as a rule.
          if (n.submissionId !== null) sum.ids.push(n.submissionId);
          if (d.submissionId !== null && d.submissionId !== n.submissionId) sum.ids.push(d.submissionId);
        }
      }
    }
    for (const { region, byPeriod } of sums.values()) {
      for (const [period, sum] of byPeriod) {
        totals.push({
          ruleId: rule.id,
          scope: region.scope,
          code: region.code,
          period,
          numerator: sum.n,
          denominator: sum.d,
          members: sum.members,
          submissionIds: distinctAscending(sum.ids),
        });
      }
    }
  }
  const scopeRank = (s: RegionScope) => REGION_SCOPES.indexOf(s);
  return totals.sort(
    (a, b) =>
      compare(a.ruleId, b.ruleId) ||
      scopeRank(a.scope) - scopeRank(b.scope) ||
      compare(a.code, b.code) ||
      compare(a.period, b.period),
  );
}

/** Running sums of one region and period. */
interface Sum {
  n: number;
  d: number;
  members: number;
  ids: number[];
}

/** The numbers sorted ascending, each once. */
function distinctAscending(ids: number[]): number[] {
  ids.sort((a, b) => a - b);
  let k = 0;
  for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[i - 1]) ids[k++] = ids[i] as number;
  ids.length = k;
  return ids;
}

/** Region totals indexed for evaluation: rule id → region key → totals. */
export type RegionTotalsIndex = ReadonlyMap<string, ReadonlyMap<string, readonly RegionTotal[]>>;

/** Indexes region totals by rule and region. */
export function indexRegionTotals(totals: readonly RegionTotal[]): RegionTotalsIndex {
  const index = new Map<string, Map<string, RegionTotal[]>>();
  for (const t of totals) {
    let ofRule = index.get(t.ruleId);
    if (!ofRule) {
      ofRule = new Map();
      index.set(t.ruleId, ofRule);
    }
    const key = regionKey(t);
    const list = ofRule.get(key);
    if (list) list.push(t);
    else ofRule.set(key, [t]);
  }
  return index;
}

/** What a region-aggregate evaluation reads besides the rule. */
export interface RegionContext {
  readonly catalog: Catalog;
  /** The evaluation's scope: the regions holding one of them are judged. */
  readonly institutions: ReadonlyMap<string, InstitutionRef>;
  readonly totals: RegionTotalsIndex;
  /** Previous regional alerts (institution `null`) by rule id. */
  readonly previousRegional: ReadonlyMap<string, readonly ActiveAlert[]>;
  readonly now: Date;
}

/** The region a regional alert is about: its `region`, else read from its fingerprint. */
export function regionOfAlert(alert: ActiveAlert): RegionRef | undefined {
  if (alert.region) return alert.region;
  const prefix = `${alert.ruleId}/*/`;
  return alert.fingerprint.startsWith(prefix)
    ? parseRegionKey(alert.fingerprint.slice(prefix.length))
    : undefined;
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
  for (const institution of ctx.institutions.values()) {
    if (!ruleApplies(rule, institution)) continue;
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
    const assessment = assessSeries(judgement.rule, watched, frequency, thresholdsAt);
    if (!assessment) {
      if (prev) outcome.active.push(prev);
      continue;
    }
    const { latest } = assessment;
    const name = regionName(ctx.catalog, region);
    const explained = explainSeries({
      rule,
      judged: judgement.rule,
      metric,
      assessment,
      thresholdsAtLatest: thresholdsAt(mustParsePeriod(latest.period)),
      watched,
      observed: undefined,
      frequency,
      detail: regionDetail(rule, region, name, byPeriod.get(latest.period) as RegionTotal),
    });
    if (!assessment.breached) {
      if (prev) outcome.transitions.push(resolveAlert(prev, ctx.now, latest, explained));
      continue;
    }
    const described = assessment.kept ?? latest;
    const facts = byPeriod.get(described.period) as RegionTotal;
    const summary = renderRegionSummary(rule.summary, {
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
        state: assessment.kept || assessment.periods >= rule.for ? 'firing' : 'pending',
        severity: assessment.level.severity,
        value: latest.value,
        threshold: assessment.level.threshold,
        period: latest.period,
        firstPeriod: assessment.firstPeriod,
        periods: assessment.periods,
        submissionId: null,
        summary,
        source: rule.source,
        explanation: explained,
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
