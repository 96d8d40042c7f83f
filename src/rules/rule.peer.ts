import type { ActiveAlert, ExplanationDetail } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import { type Frequency, mustParsePeriod, parsePeriod, periodOrdinal } from '../catalog/period.js';
import type { InstitutionRef, Observation, SeriesIndex } from './evaluate.js';
import { computeAlert, fingerprintOf } from './rule.alert.js';
import { judgementOf, valueIn } from './rule.derived.js';
import { continueExplanation, explainSeries } from './rule.explain.js';
import type { RuleOutcome } from './rule.filing.js';
import { type PeerGroup, peerGroup, percentileOf, percentileRank, robustZ } from './rule.peer-stats.js';
import type { PeerOutlierRule } from './rule.schema.js';
import { coverageOf } from './rule.scope.js';
import { assessSeries } from './rule.series.js';
import { formatNumber } from './rule.template.js';
import { thresholdsFor } from './rule.thresholds.js';
import { resolveAlert, stepAlert } from './rule.transition.js';
import { type EvaluationWindow, seedOf, windowFor } from './rule.window.js';

export {
  type PeerGroup,
  peerGroup,
  percentileRank,
  robustZ,
} from './rule.peer-stats.js';

/** What a peer-outlier evaluation reads besides the rule: indexes built once per evaluation. */
export interface PeerContext {
  readonly catalog: Catalog;
  /** The institutions judged (the evaluation's scope). */
  readonly institutions: ReadonlyMap<string, InstitutionRef>;
  readonly series: SeriesIndex;
  /**
   * Institutions compared with, and their series; those also in scope are judged and counted with their
   * own observations, never twice (the set may come from a cache, indexed once).
   */
  readonly peers: ReadonlyMap<string, InstitutionRef>;
  readonly peerSeries: SeriesIndex;
  /** The previous alerts of a rule about a metric, by institution. */
  readonly previousOf: (ruleId: string, metric: string) => ReadonlyMap<string, ActiveAlert>;
  /** A windowed evaluation's window (see `EvaluationInput.window`). */
  readonly window?: EvaluationWindow | undefined;
  readonly now: Date;
}

/**
 * Judges one peer-outlier rule for every institution in scope that the rule covers. The groups — per
 * type and period, the institutions the rule covers (scope and peers) with a value of the metric — are
 * built once for the rule; each institution's series of statistics (a period whose group has fewer than
 * `min_peers` values is left out: a gap) is then judged as a threshold rule judges values.
 * @throws when the metric is not in the catalog, a period is not of its frequency, a value is not
 *   finite, or a template fails to render.
 */
export function evaluatePeerRule(rule: PeerOutlierRule, ctx: PeerContext): RuleOutcome {
  const metric = ctx.catalog.metrics.get(rule.metric);
  if (!metric) throw new Error(`metric ${rule.metric} is not in the catalog`);
  const { frequency } = metric;
  const judgement = judgementOf(rule);
  const thresholdsAt = thresholdsFor(judgement.rule, { code: '', type: '' });
  const window = windowFor(ctx.window, rule.kind, frequency);
  const reader = new SeriesReader(frequency);
  const groups = peerGroups(rule, ctx, reader);
  const ofMetric = ctx.series.get(rule.metric);
  const mine = ctx.previousOf(rule.id, rule.metric);
  const outcome: RuleOutcome = { active: [], transitions: [], decided: [] };
  const covers = coverageOf(rule);
  for (const institution of ctx.institutions.values()) {
    if (!covers(institution)) continue;
    const observed = ofMetric?.get(institution.code);
    const prev = mine.get(institution.code);
    if (!observed && !prev) continue;
    const fingerprint = prev?.fingerprint ?? fingerprintOf(rule.id, institution.code, rule.metric);
    if (prev) outcome.decided.push(fingerprint);
    const ofType = groups.get(institution.type);
    const watched: Observation[] = [];
    for (const o of reader.read(observed ?? [])) {
      const group = ofType?.get(reader.ordinal(o.period));
      if (!group || group.sorted.length < rule.min_peers) continue; // too few peers: a gap
      watched.push({
        institution: o.institution,
        metric: o.metric,
        period: o.period,
        value: roundStatistic(statisticOf(rule, group, o.value)),
        submissionId: o.submissionId,
      });
    }
    const seed = window ? seedOf(prev, watched, window, false) : undefined;
    const assessment =
      seed === null ? undefined : assessSeries(judgement.rule, watched, frequency, thresholdsAt, seed);
    if (!assessment) {
      if (prev) outcome.active.push(prev);
      continue;
    }
    // Most institutions are not outliers and had no alert: nothing to explain.
    if (!assessment.breached && !prev) continue;
    const { latest } = assessment;
    const group = ofType?.get(reader.ordinal(latest.period)) as PeerGroup;
    const current = valueIn(observed ?? [], latest.period);
    const explained = explainSeries({
      rule,
      judged: judgement.rule,
      metric,
      assessment,
      thresholdsAtLatest: thresholdsAt(mustParsePeriod(latest.period)),
      watched,
      observed: observed ?? [],
      frequency,
      detail: peerDetail(rule, group, current ?? Number.NaN),
    });
    if (!assessment.breached) {
      if (prev) outcome.transitions.push(resolveAlert(prev, ctx.now, latest, explained));
      continue;
    }
    // The summary describes the latest period, or the last breach of an alert kept firing: its group.
    const kept = assessment.kept;
    const described =
      kept && !('describedBy' in kept) ? (ofType?.get(reader.ordinal(kept.period)) as PeerGroup) : group;
    const typeName = ctx.catalog.types.get(institution.type)?.name ?? {
      zh: institution.type,
      en: institution.type,
    };
    const alert = computeAlert(
      fingerprint,
      rule,
      metric,
      institution,
      assessment,
      (period) => valueIn(observed ?? [], period),
      { median: formatNumber(described.median), peers: String(described.sorted.length), type_name: typeName },
    );
    const why = seed ? continueExplanation(prev, explained, assessment) : explained;
    const step = stepAlert(prev, { ...alert, explanation: why }, ctx.now);
    outcome.active.push(step.alert);
    if (step.transition) outcome.transitions.push(step.transition);
  }
  return outcome;
}

/**
 * A statistic rounded to 10 decimals, so a percentile rank of exactly 90 does not come out as
 * 89.99999999999999 against a threshold of 90 (numerically, without a string round trip: this runs once
 * per observation).
 */
function roundStatistic(v: number): number {
  return Math.round(v * 1e10) / 1e10;
}

/** The statistic a rule judges for value `x` in its group. */
function statisticOf(rule: PeerOutlierRule, group: PeerGroup, x: number): number {
  // Once per observation: percentileOf makes no result object.
  return rule.method === 'robust_z' ? robustZ(group, x) : percentileOf(group, x);
}

/** The peer facts of an explanation: the group, its statistics, and the institution's statistic. */
function peerDetail(rule: PeerOutlierRule, group: PeerGroup, x: number): ExplanationDetail {
  const { below, equal, rank } = percentileRank(group, x);
  const round = (v: number) => Number(v.toPrecision(12));
  const definition =
    rule.method === 'percentile'
      ? 'percentile rank = 100 × (below + equal / 2) / peers, the institution itself among the equal'
      : group.spread.basis === 'mad'
        ? 'z = (x − median) / (1.4826 × MAD), MAD = median of |xᵢ − median| over the peers, the institution included'
        : group.spread.basis === 'mean_ad'
          ? 'z = (x − median) / (1.253314 × MeanAD), MeanAD = mean of |xᵢ − median|: the MAD is 0'
          : 'z = 0: every peer value equals the median';
  return {
    kind: 'peer_outlier',
    method: rule.method,
    group: { type: group.type, period: group.period },
    peers: group.sorted.length,
    min_peers: rule.min_peers,
    median: round(group.median),
    mad: round(group.mad),
    mean_ad: round(group.meanAd),
    spread: { basis: group.spread.basis, value: round(group.spread.value) },
    below,
    equal,
    statistic: roundStatistic(rule.method === 'robust_z' ? robustZ(group, x) : rank),
    definition,
  };
}

/**
 * Builds the peer groups of a rule: for each type and period, the value of every institution the rule
 * covers — in scope or among the peers — that has one (its newest submission where two share a period).
 */
function peerGroups(
  rule: PeerOutlierRule,
  ctx: PeerContext,
  reader: SeriesReader,
): Map<string, Map<number, PeerGroup>> {
  const values = new Map<string, Map<number, { period: string; values: number[] }>>();
  const covers = coverageOf(rule);
  const collect = (institution: InstitutionRef, series: readonly Observation[] | undefined) => {
    if (!series || !covers(institution)) return;
    let ofType = values.get(institution.type);
    if (!ofType) {
      ofType = new Map();
      values.set(institution.type, ofType);
    }
    for (const o of reader.read(series)) {
      const n = reader.ordinal(o.period);
      const group = ofType.get(n);
      if (group) group.values.push(o.value);
      else ofType.set(n, { period: o.period, values: [o.value] });
    }
  };
  const inScope = ctx.series.get(rule.metric);
  for (const institution of ctx.institutions.values()) collect(institution, inScope?.get(institution.code));
  const asPeers = ctx.peerSeries.get(rule.metric);
  for (const institution of ctx.peers.values())
    if (!ctx.institutions.has(institution.code)) collect(institution, asPeers?.get(institution.code));

  let largest = 0;
  for (const ofType of values.values())
    for (const g of ofType.values()) largest = Math.max(largest, g.values.length);
  const scratch = new Float64Array(largest);
  const groups = new Map<string, Map<number, PeerGroup>>();
  for (const [type, ofType] of values) {
    const built = new Map<number, PeerGroup>();
    for (const [n, g] of ofType) built.set(n, peerGroup(type, g.period, g.values, scratch));
    groups.set(type, built);
  }
  return groups;
}

/** Ordinals of periods in 1900–2999 (all `parsePeriod` accepts) start here, per frequency. */
const FIRST_ORDINAL = { monthly: 1900 * 12, quarterly: 1900 * 4 } as const;
const ORDINALS = 1100 * 12;

/**
 * Reads series of one frequency: each period parsed once per rule, values checked, and one observation
 * per period (the newest submission). A series without two observations for one period — what callers
 * pass — is used as it is, found so by marking its periods in one array reused from series to series.
 */
class SeriesReader {
  private readonly ordinals = new Map<string, number>();
  private readonly marks = new Int32Array(ORDINALS);
  private mark = 0;

  constructor(private readonly frequency: Frequency) {}

  /** The period's ordinal. @throws when it is not a period of the reader's frequency. */
  ordinal(text: string, o?: Observation): number {
    let n = this.ordinals.get(text);
    if (n === undefined) {
      const period = parsePeriod(text);
      if (!period || period.frequency !== this.frequency) {
        throw new Error(
          `${o?.institution ?? ''} ${o?.metric ?? ''}: period ${JSON.stringify(text)} is not a ${this.frequency} period`.trim(),
        );
      }
      n = periodOrdinal(period);
      this.ordinals.set(text, n);
    }
    return n;
  }

  /**
   * One observation per period of `series`: the series itself, or a copy without the older of two
   * observations sharing a period.
   * @throws when a period is not of the frequency or a value is not finite.
   */
  read(series: readonly Observation[]): readonly Observation[] {
    const mark = ++this.mark;
    const first = FIRST_ORDINAL[this.frequency];
    let duplicated = false;
    for (const o of series) {
      const n = this.ordinal(o.period, o) - first;
      if (!Number.isFinite(o.value))
        throw new Error(`${o.institution} ${o.metric} ${o.period}: value ${o.value} is not finite`);
      if (this.marks[n] === mark) duplicated = true;
      this.marks[n] = mark;
    }
    if (!duplicated) return series;
    const newest = new Map<string, Observation>();
    for (const o of series) {
      const seen = newest.get(o.period);
      // Callers pass current versions only; should two share a period, the newer submission wins.
      if (!seen || (o.submissionId ?? -1) >= (seen.submissionId ?? -1)) newest.set(o.period, o);
    }
    return [...newest.values()];
  }
}
