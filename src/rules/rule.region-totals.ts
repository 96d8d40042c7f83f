import { REGION_SCOPES, type RegionRef, type RegionScope } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { InstitutionRef, Observation } from './evaluate.js';
import { regionKey, regionsOf } from './rule.region-ref.js';
import type { RegionAggregateRule, Rule } from './rule.schema.js';
import { coverageOf } from './rule.scope.js';

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

/**
 * The totals of every region-aggregate rule among `rules`, from current observations. Pure; the service
 * computes the same in SQL. For each such rule R, with components N / D × scale and types T:
 *
 * - **Candidates**: every institution in `institutions` (the whole population, not an evaluation's
 *   scope) that R covers: its type is in T (`ruleCovers`: and its attributes satisfy the rule's `where`).
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
    const covers = coverageOf(rule);
    for (const institution of population) {
      if (!covers(institution)) continue;
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

/** Code-unit order, independent of the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
