import type { ActiveAlert, AlertExplanation, Transition } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { MetricDef } from '../catalog/catalog.schema.js';
import { comparePeriods, mustParsePeriod } from '../catalog/period.js';
import { computeAlert, fingerprintOf } from './rule.alert.js';
import { judgementOf, valueIn } from './rule.derived.js';
import { continueExplanation, explainSeries, seriesDetail } from './rule.explain.js';
import {
  alertMetricOf,
  evaluateFilingRule,
  type Filing,
  type FilingContext,
  type RuleOutcome,
} from './rule.filing.js';
import { evaluatePeerRule, type PeerContext } from './rule.peer.js';
import {
  evaluateRegionRule,
  indexRegionTotals,
  type RegionContext,
  type RegionTotal,
} from './rule.region.js';
import type { Rule, SeriesKindRule } from './rule.schema.js';
import { coverageOf, ruleCovers } from './rule.scope.js';
import { type Assessment, assessSeries } from './rule.series.js';
import { type ThresholdsAt, thresholdsFor } from './rule.thresholds.js';
import { resolveAlert, stepAlert } from './rule.transition.js';
import { type EvaluationWindow, seedOf, windowFor } from './rule.window.js';

export { fingerprintOf } from './rule.alert.js';
export type { Filing } from './rule.filing.js';
export { aggregateRegions, type RegionTotal } from './rule.region.js';

/** What the evaluator needs to know about an institution. */
export interface InstitutionRef {
  code: string;
  name: string;
  type: string;
  county: string;
  /**
   * The attributes the institution carries (`{ government_backed: true }`): rules with a `where`
   * filter and overrides by attribute select by them. Absent, or an attribute not there: false.
   */
  attributes?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Since when the institution exists for supervision: missing-filing rules do not expect periods
   * that ended before it. When absent, every period is expected.
   */
  establishedAt?: Date | undefined;
}

/** One value of one metric for one institution and period, from the current submission version. */
export interface Observation {
  institution: string;
  metric: string;
  period: string;
  value: number;
  submissionId: number | null;
}

/** Whether a rule evaluated cleanly; `error` is the message of what it threw. */
export interface RuleHealth {
  ruleId: string;
  ok: boolean;
  error?: string;
}

/** Everything one evaluation reads. `now` stamps transitions; the evaluator never reads the clock. */
export interface EvaluationInput {
  rules: readonly Rule[];
  catalog: Catalog;
  /** The institutions in scope; alerts of institutions not listed are carried over unchanged. */
  institutions: readonly InstitutionRef[];
  /** Current versions only, one per institution, metric and period. */
  observations: readonly Observation[];
  /** The active alerts owned by these rules before this evaluation. */
  previous: readonly ActiveAlert[];
  /**
   * Current submissions of the listed institutions, for at least the periods `filingPeriodsToLoad`
   * names; a period without one is a missing filing. Needed by missing-filing rules only: without it
   * they fail (health error, alerts kept) rather than call every filing missing.
   */
  filings?: readonly Filing[] | undefined;
  /** The regulator's IANA time zone, where filing deadlines fall; needed by missing-filing rules only. */
  timeZone?: string | undefined;
  /**
   * Institutions that are only peers — compared with, never judged — and their current observations:
   * peer-outlier rules judge each institution in scope against every institution of its type in scope ∪
   * peers. An institution listed in both counts as in scope (its observations from `observations`).
   * Needed by peer-outlier rules only: without it they fail (health error, alerts kept) rather than judge
   * an institution against only those evaluated with it. Pass `{ institutions: [], observations: [] }`
   * when `institutions` is already the whole population (a periodic evaluation of everyone, a rule test).
   */
  peers?: PeerInput | undefined;
  /**
   * The totals of region-aggregate rules (see `aggregateRegions` for who the members are): per rule,
   * region and period, over the whole population, whatever the scope. Needed by region-aggregate rules
   * only: without it they fail (health error, alerts kept). The regions judged are those holding an
   * institution of `institutions` the rule covers, plus the regions of the rule's previous alerts; a
   * region without totals keeps its alert.
   */
  regionTotals?: readonly RegionTotal[] | undefined;
  /**
   * Set when `observations` hold only a window of recent periods rather than the whole history (a
   * scheduled evaluation of every institution reads one, see `historyWindow` in rule.window.ts): the
   * latest period of each frequency it ends at, and the kinds it applies to (all when not given). Each
   * series of such a rule is judged at that latest period only, from the state its previous alert
   * recorded for the period before (the run, or a firing alert being kept; the explanation's periods
   * carried on from the alert's). That gives the alerts the whole history gives as long as nothing
   * before the window changed since those alerts were computed, which holds because every upload
   * evaluates its institutions over their whole history. A series with no value in the latest period,
   * or already judged at that submission of it, is left as it is; a frequency without a latest period
   * is not judged at all.
   */
  window?: EvaluationWindow | undefined;
  now: Date;
}

/** The alerts active after the evaluation, the transitions that got there, and each rule's health. */
export interface EvaluationResult {
  active: ActiveAlert[];
  transitions: Transition[];
  health: RuleHealth[];
}

/**
 * Evaluates the rules over the institutions' series and filings and moves the previous alerts along.
 * Pure and deterministic: outputs are sorted by fingerprint (health by rule id), and evaluating the
 * same input again with `previous` set to the returned `active` yields no transitions.
 *
 * - Threshold rules: each rule × listed institution the rule covers (its type, and its attributes
 *   where the rule has a `where` filter) is judged at the series' latest period. No observation for the metric: the previous alert stays as it is (lack of
 *   data never resolves).
 * - Missing-filing rules: each rule × listed institution × period due (see `evaluateFilingRule`)
 *   fires at once without a filing and resolves when one exists.
 * - Peer-outlier rules: each rule × listed institution, its statistic against its type's peer group in
 *   each period (scope ∪ `peers`; see `evaluatePeerRule`) judged as a threshold rule judges values.
 * - Region-aggregate rules: each rule × region holding a listed institution (or a previous alert), its
 *   aggregate ratio from `regionTotals` (see `evaluateRegionRule`); alerts with `institution: null`.
 * - Every alert carries an `explanation`; a change of explanation alone is no transition.
 * - A rule that throws is isolated: its health carries the error and its previous alerts stay as
 *   they are, while the other rules run.
 * - A previous alert resolves when its rule no longer judges it a breach, when its rule is gone, or
 *   when the rule no longer covers the institution (its type, or its attributes under the rule's
 *   `where`) or the alert's metric (`filing:<frequency>` for a missing filing, so a rule of the other
 *   kind under the same id resolves it too).
 */
export function evaluate(input: EvaluationInput): EvaluationResult {
  const { rules, catalog, previous, now } = input;
  const institutions = new Map(input.institutions.map((i) => [i.code, i]));
  // Built on first use, so evaluations without rules of a kind pay nothing for its indexes.
  let series: SeriesIndex | undefined;
  let filingContext: FilingContext | undefined;
  let peerContext: PeerContext | undefined;
  let regionContext: RegionContext | undefined;
  let filingsByInstitution: ReadonlyMap<string, readonly Filing[]> | undefined;
  let previousByRule: ReadonlyMap<string, ReadonlyMap<string, ActiveAlert>> | undefined;
  const previousOf = (ruleId: string, metric: string) => {
    previousByRule ??= indexPrevious(previous);
    return previousByRule.get(`${ruleId}\u0000${metric}`) ?? NONE;
  };
  const active: ActiveAlert[] = [];
  const transitions: Transition[] = [];
  const health: RuleHealth[] = [];
  const decided = new Set<string>();

  for (const rule of rules) {
    try {
      // A rule's outcome is committed only on success, so a rule failing halfway leaves no trace.
      let outcome: RuleOutcome;
      if (rule.kind === 'missing_filing') {
        filingContext ??= buildFilingContext(input, institutions);
        outcome = evaluateFilingRule(rule, filingContext);
      } else if (rule.kind === 'peer_outlier') {
        series ??= indexSeries(input.observations);
        peerContext ??= buildPeerContext(input, institutions, series, previousOf);

        outcome = evaluatePeerRule(rule, peerContext);
      } else if (rule.kind === 'region_aggregate') {
        regionContext ??= buildRegionContext(input, institutions);
        outcome = evaluateRegionRule(rule, regionContext);
      } else {
        series ??= indexSeries(input.observations);
        outcome = evaluateSeriesRule(
          rule,
          catalog,
          institutions,
          series,
          now,
          input.window,
          (code) => {
            filingsByInstitution ??= indexFilings(input.filings);
            return filingsByInstitution.get(code) ?? [];
          },
          () => {
            filingsByInstitution ??= indexFilings(input.filings);
            return filingsByInstitution.keys();
          },
          previousOf,
        );
      }
      // Loops, not push(...spread): one rule over every institution can hold more alerts than a call
      // has room for arguments.
      for (const a of outcome.active) active.push(a);
      for (const t of outcome.transitions) transitions.push(t);
      for (const f of outcome.decided) decided.add(f);
      health.push({ ruleId: rule.id, ok: true });
    } catch (error) {
      health.push({
        ruleId: rule.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
      for (const prev of previous) {
        if (prev.ruleId !== rule.id) continue;
        active.push(prev);
        decided.add(prev.fingerprint);
      }
    }
  }

  const rulesById = new Map(rules.map((r) => [r.id, r]));
  for (const prev of previous) {
    if (decided.has(prev.fingerprint)) continue;
    const rule = rulesById.get(prev.ruleId);
    const institution = prev.institution === null ? undefined : institutions.get(prev.institution);
    // An institution outside this evaluation's scope is not judged here. A regional alert belongs to a
    // region rule (which judges all of its own), an institution's alert to any other kind.
    const stillApplies =
      rule !== undefined &&
      alertMetricOf(rule) === prev.metric &&
      (prev.institution === null) === (rule.kind === 'region_aggregate') &&
      (institution === undefined || ruleCovers(rule, institution));
    if (stillApplies) active.push(prev);
    else transitions.push(resolveAlert(prev, now));
  }

  const byFingerprint = (a: { fingerprint: string }, b: { fingerprint: string }) =>
    compare(a.fingerprint, b.fingerprint);
  active.sort(byFingerprint);
  transitions.sort((a, b) => byFingerprint(a.alert, b.alert));
  health.sort((a, b) => compare(a.ruleId, b.ruleId));
  return { active, transitions, health };
}

/**
 * One rule of a series kind (threshold, change, trend, projection) over every listed institution of its
 * types: the metric's series, or the series the rule derives from it, judged as a threshold rule judges.
 */
function evaluateSeriesRule(
  rule: SeriesKindRule,
  catalog: Catalog,
  institutions: ReadonlyMap<string, InstitutionRef>,
  series: SeriesIndex,
  now: Date,
  window: EvaluationWindow | undefined,
  /** An institution's current submissions. @throws when the evaluation was given no filings. */
  filingsOf: (code: string) => readonly Filing[],
  /** The institutions with filings. @throws as `filingsOf`. */
  filedInstitutions: () => Iterable<string>,
  /** The previous alerts of a rule about a metric, by institution. */
  previousOf: (ruleId: string, metric: string) => ReadonlyMap<string, ActiveAlert>,
): RuleOutcome {
  const outcome: RuleOutcome = { active: [], transitions: [], decided: [] };
  const metric = catalog.metrics.get(rule.metric);
  if (!metric) throw new Error(`metric ${rule.metric} is not in the catalog`);
  const judgement = judgementOf(rule);
  const latest = windowFor(window, rule.kind, metric.frequency);
  const ofMetric = series.get(rule.metric);
  // Only institutions with a value the rule reads, a filing (for a missing-data rule) or an alert of the
  // rule are judged: a national evaluation would otherwise visit every institution for every rule.
  const mine = previousOf(rule.id, rule.metric);
  const covers = coverageOf(rule);
  for (const code of candidatesOf(rule, judgement.inputs, series, mine, filedInstitutions)) {
    const institution = institutions.get(code);
    if (!institution || !covers(institution)) continue;
    const observed = ofMetric?.get(institution.code);
    // The alert of this rule about this metric (one about another metric is resolved by evaluate()).
    const prev = mine.get(code);
    // Only a previous alert needs to be marked judged (see evaluate()).
    if (prev) outcome.decided.push(prev.fingerprint);
    const watched = judgement.derive
      ? judgement.derive(
          (m) => series.get(m)?.get(institution.code) ?? [],
          metric.frequency,
          () => filingsOf(institution.code),
        )
      : (observed ?? []);
    const thresholdsAt = thresholdsFor(judgement.rule, institution);
    const seed = latest ? seedOf(prev, watched, latest, true) : undefined;
    const assessment =
      seed === null ? undefined : assessSeries(judgement.rule, watched, metric.frequency, thresholdsAt, seed);
    if (!assessment || (prev && comparePeriods(assessment.latest.period, prev.period) < 0)) {
      // No value, or the latest one is older than the alert's (a resubmission dropped the metric from
      // the period it was judged in): an alert never resolves or moves back for lack of data, it waits
      // for the next filing.
      if (prev) outcome.active.push(prev);
    } else if (!assessment.breached) {
      if (prev) {
        const why = explain(rule, metric, assessment, thresholdsAt, watched, observed, series, institution);
        outcome.transitions.push(resolveAlert(prev, now, assessment.latest, why));
      }
    } else {
      // What the metric itself stood at, where the rule judged something derived from it.
      const currentIn = judgement.derive ? (period: string) => valueIn(observed ?? [], period) : undefined;
      const fingerprint = prev?.fingerprint ?? fingerprintOf(rule.id, institution.code, rule.metric);
      const alert = computeAlert(fingerprint, rule, metric, institution, assessment, currentIn);
      const fresh = explain(rule, metric, assessment, thresholdsAt, watched, observed, series, institution);
      const why = seed ? continueExplanation(prev, fresh, assessment) : fresh;
      const step = stepAlert(prev, { ...alert, explanation: why }, now);
      outcome.active.push(step.alert);
      if (step.transition) outcome.transitions.push(step.transition);
    }
  }
  return outcome;
}

/** The explanation of a series rule's assessment of one institution's series. */
function explain(
  rule: SeriesKindRule,
  metric: MetricDef,
  assessment: Assessment,
  thresholdsAt: ThresholdsAt,
  watched: readonly Observation[],
  observed: readonly Observation[] | undefined,
  series: SeriesIndex,
  institution: InstitutionRef,
): AlertExplanation {
  const judgement = judgementOf(rule);
  return explainSeries({
    rule,
    judged: judgement.rule,
    metric,
    assessment,
    thresholdsAtLatest: thresholdsAt(mustParsePeriod(assessment.latest.period)),
    watched,
    observed: judgement.derive ? (observed ?? []) : undefined,
    frequency: metric.frequency,
    detail: seriesDetail(
      rule,
      (m) => series.get(m)?.get(institution.code) ?? [],
      metric.frequency,
      assessment.latest,
    ),
  });
}

const NONE: ReadonlyMap<string, ActiveAlert> = new Map();

/**
 * The institutions a series rule may judge: those with a value of a metric it reads, with a filing (a
 * missing-data rule), or with an alert of it. A rule reading one metric walks that metric's index and
 * its alerts, building no set.
 */
function candidatesOf(
  rule: SeriesKindRule,
  inputs: readonly string[],
  series: SeriesIndex,
  alerts: ReadonlyMap<string, ActiveAlert>,
  filed: () => Iterable<string>,
): Iterable<string> {
  const only = inputs.length === 1 && rule.kind !== 'missing_data' ? inputs[0] : undefined;
  if (only !== undefined) {
    const ofMetric = series.get(only);
    if (!ofMetric) return alerts.keys();
    if (alerts.size === 0) return ofMetric.keys();
    const all = [...ofMetric.keys()];
    for (const code of alerts.keys()) if (!ofMetric.has(code)) all.push(code);
    return all;
  }
  const all = new Set<string>(alerts.keys());
  for (const m of inputs) for (const code of series.get(m)?.keys() ?? []) all.add(code);
  if (rule.kind === 'missing_data') for (const code of filed()) all.add(code);
  return all;
}

/** Previous alerts of institutions by rule id and metric, then institution code. */
function indexPrevious(previous: readonly ActiveAlert[]): Map<string, Map<string, ActiveAlert>> {
  const index = new Map<string, Map<string, ActiveAlert>>();
  for (const a of previous) {
    if (a.institution === null) continue;
    const key = `${a.ruleId}\u0000${a.metric}`;
    let ofRule = index.get(key);
    if (!ofRule) {
      ofRule = new Map();
      index.set(key, ofRule);
    }
    ofRule.set(a.institution, a);
  }
  return index;
}

/** Current submissions by institution, for missing-data rules. @throws when none were given. */
function indexFilings(filings: readonly Filing[] | undefined): Map<string, Filing[]> {
  if (!filings) throw new Error('filings were not loaded for this evaluation');
  const index = new Map<string, Filing[]>();
  for (const f of filings) {
    const list = index.get(f.institution);
    if (list) list.push(f);
    else index.set(f.institution, [f]);
  }
  return index;
}

/** Indexes filings and previous alerts for missing-filing rules. @throws when filings or zone are absent. */
function buildFilingContext(
  input: EvaluationInput,
  institutions: ReadonlyMap<string, InstitutionRef>,
): FilingContext {
  if (!input.filings) throw new Error('filings were not loaded for this evaluation');
  if (!input.timeZone) throw new Error('no time zone was given for filing deadlines');
  const filings = new Map<string, Map<string, Filing>>();
  for (const f of input.filings) {
    let ofInstitution = filings.get(f.institution);
    if (!ofInstitution) {
      ofInstitution = new Map();
      filings.set(f.institution, ofInstitution);
    }
    const existing = ofInstitution.get(f.period);
    // Callers pass current submissions only; should two share a period, the newer one wins.
    if (!existing || (f.submissionId ?? -1) >= (existing.submissionId ?? -1)) ofInstitution.set(f.period, f);
  }
  const previousByRule = new Map<string, Map<string, ActiveAlert[]>>();
  for (const a of input.previous) {
    if (a.institution === null) continue;
    let ofRule = previousByRule.get(a.ruleId);
    if (!ofRule) {
      ofRule = new Map();
      previousByRule.set(a.ruleId, ofRule);
    }
    const list = ofRule.get(a.institution);
    if (list) list.push(a);
    else ofRule.set(a.institution, [a]);
  }
  return {
    catalog: input.catalog,
    institutions: [...institutions.values()],
    filings,
    previousByRule,
    now: input.now,
    timeZone: input.timeZone,
  };
}

/** Indexes the peers of peer-outlier rules. @throws when `peers` is absent. */
function buildPeerContext(
  input: EvaluationInput,
  institutions: ReadonlyMap<string, InstitutionRef>,
  series: SeriesIndex,
  previousOf: PeerContext['previousOf'],
): PeerContext {
  if (!input.peers) {
    throw new Error(
      'peers were not loaded for this evaluation: a peer-outlier rule judges an institution against every institution of its type',
    );
  }
  const peers = peerIndexOf(input.peers);
  return {
    catalog: input.catalog,
    institutions,
    series,
    peers: peers.institutions,
    peerSeries: peers.series,
    previousOf,
    window: input.window,
    now: input.now,
  };
}

/** Institutions compared with in peer-outlier rules (see `EvaluationInput.peers`). */
export interface PeerInput {
  readonly institutions: readonly InstitutionRef[];
  readonly observations: readonly Observation[];
  /**
   * The same, indexed (by code; by metric, then code): given by a caller that keeps the set between
   * evaluations and updates it in place of rebuilding it; made from the lists when absent.
   */
  readonly index?: PeerIndex | undefined;
}

/** {@link PeerInput} indexed. */
export interface PeerIndex {
  readonly institutions: ReadonlyMap<string, InstitutionRef>;
  readonly series: SeriesIndex;
}

/**
 * The index of a set of peers, made once per set: an upload's peers (every rural commercial bank of the
 * country) come from a cache, the same object upload after upload, and indexing them is most of what
 * judging a peer rule for one institution costs.
 */
function peerIndexOf(peers: PeerInput): PeerIndex {
  if (peers.index) return peers.index;
  let index = peerIndexes.get(peers);
  if (!index) {
    index = {
      institutions: new Map(peers.institutions.map((i) => [i.code, i])),
      series: indexSeries(peers.observations),
    };
    peerIndexes.set(peers, index);
  }
  return index;
}

const peerIndexes = new WeakMap<
  object,
  { institutions: ReadonlyMap<string, InstitutionRef>; series: SeriesIndex }
>();

/** Indexes the totals and previous regional alerts of region-aggregate rules. @throws without totals. */
function buildRegionContext(
  input: EvaluationInput,
  institutions: ReadonlyMap<string, InstitutionRef>,
): RegionContext {
  if (!input.regionTotals) throw new Error('region totals were not computed for this evaluation');
  const previousRegional = new Map<string, ActiveAlert[]>();
  for (const a of input.previous) {
    if (a.institution !== null) continue;
    const list = previousRegional.get(a.ruleId);
    if (list) list.push(a);
    else previousRegional.set(a.ruleId, [a]);
  }
  return {
    catalog: input.catalog,
    institutions,
    totals: indexRegionTotals(input.regionTotals),
    previousRegional,
    window: input.window,
    now: input.now,
  };
}

/** One metric's series, by institution code: what the rules read of a series index. */
export interface MetricSeries {
  get(code: string): Observation[] | undefined;
  has(code: string): boolean;
  /** The institutions with a value, in the order first seen. */
  keys(): IterableIterator<string>;
}

/** Observations by metric, then institution: one series each. */
export interface SeriesIndex {
  get(metric: string): MetricSeries | undefined;
}

/**
 * A metric's series in slots numbered by institution (numbers shared by every metric of one index), so
 * filing an observation costs one lookup of its metric and, for a row of another institution than the
 * row before, one of its code: a national evaluation indexes close to a million observations.
 */
class SlotSeries implements MetricSeries {
  readonly slots: (Observation[] | undefined)[] = [];
  readonly codes: string[] = [];
  constructor(private readonly numbers: ReadonlyMap<string, number>) {}
  get(code: string): Observation[] | undefined {
    const n = this.numbers.get(code);
    return n === undefined ? undefined : this.slots[n];
  }
  has(code: string): boolean {
    return this.get(code) !== undefined;
  }
  keys(): IterableIterator<string> {
    return this.codes[Symbol.iterator]();
  }
}

/** Groups observations by metric and institution. */
export function indexSeries(observations: readonly Observation[]): SeriesIndex {
  const numbers = new Map<string, number>();
  const byMetric = new Map<string, SlotSeries>();
  let lastCode: string | undefined;
  let last = -1;
  for (const o of observations) {
    if (o.institution !== lastCode) {
      let n = numbers.get(o.institution);
      if (n === undefined) {
        n = numbers.size;
        numbers.set(o.institution, n);
      }
      lastCode = o.institution;
      last = n;
    }
    let ofMetric = byMetric.get(o.metric);
    if (!ofMetric) {
      ofMetric = new SlotSeries(numbers);
      byMetric.set(o.metric, ofMetric);
    }
    const list = ofMetric.slots[last];
    if (list) list.push(o);
    else {
      ofMetric.slots[last] = [o];
      ofMetric.codes.push(o.institution);
    }
  }
  return byMetric;
}

/** Code-unit order, independent of the locale, so outputs sort the same everywhere. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
