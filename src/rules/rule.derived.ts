import { Environment } from '@marcbachmann/cel-js';
import { type Frequency, type Period, parsePeriod, periodOrdinal } from '../catalog/period.js';
import type { Filing, Observation } from './evaluate.js';
import type {
  ChangeRule,
  ExpressionRule,
  MetricRule,
  MissingDataRule,
  ProjectionRule,
  ThresholdRule,
  TrendRule,
} from './rule.schema.js';
import type { SeriesRule } from './rule.series.js';

/**
 * How a rule of a series kind is judged: a threshold rule judges the metric's own series; a change,
 * trend or projection rule first turns it into a series of what it watches (the change, the periods of
 * decline so far, the projected value), period by period, which is then judged exactly as a threshold
 * rule judges values — runs, `for`, `keep_firing_for`, hysteresis, overrides. A period where the derived
 * value cannot be computed (no previous period, too short a history) is a gap in the derived series.
 */
export interface Judgement {
  /** The threshold parts to judge the (derived) series with. */
  readonly rule: SeriesRule;
  /** The metrics the rule reads (its own, or an expression's inputs). */
  readonly inputs: readonly string[];
  /**
   * How many periods before a judged period its derived value reads (0: the period alone; a change
   * against the previous period: 1; a year earlier: 12 months or 4 quarters; a trend of N moves: N; a
   * projection fitted over k periods: k − 1). A window of recent periods must reach that far back.
   */
  readonly lookback: (frequency: Frequency) => number;
  /**
   * Derives the watched series from the institution's series by metric (and, for a missing-data rule,
   * its filings: current submissions by period); absent for a threshold rule.
   */
  readonly derive?: (
    seriesOf: (metric: string) => readonly Observation[],
    frequency: Frequency,
    filingsOf: () => readonly Filing[],
  ) => Observation[];
}

const judgements = new WeakMap<MetricRule, Judgement>();

/**
 * The judgement of a rule, made once per loaded rule. A peer-outlier or region-aggregate rule has no
 * `derive`: its series needs other institutions (the peer group, the region's members), which its own
 * evaluator brings; its judgement gives the threshold parts and the metrics it reads.
 */
export function judgementOf(rule: MetricRule): Judgement {
  let judgement = judgements.get(rule);
  if (!judgement) {
    judgement = makeJudgement(rule);
    judgements.set(rule, judgement);
  }
  return judgement;
}

function makeJudgement(rule: MetricRule): Judgement {
  const own = [rule.metric];
  const none = () => 0;
  switch (rule.kind) {
    case 'threshold':
      return { rule, inputs: own, lookback: none };
    case 'change':
      return {
        rule,
        inputs: own,
        lookback: (frequency) => changeLag(rule, frequency),
        derive: (of, frequency) => changes(rule, of(rule.metric), frequency),
      };
    case 'trend':
      return {
        // N periods of decline in a row: the count reaches N.
        rule: plain('>=', [{ severity: rule.severity, threshold: rule.periods }], 1, rule.keep_firing_for),
        inputs: own,
        lookback: () => rule.periods,
        derive: (of, frequency) => declines(rule, of(rule.metric), frequency),
      };
    case 'projection':
      return {
        rule: plain(
          rule.op,
          [{ severity: rule.severity, threshold: rule.limit }],
          rule.for,
          rule.keep_firing_for,
        ),
        inputs: own,
        lookback: () => rule.fit - 1,
        derive: (of, frequency) => projections(rule, of(rule.metric), frequency),
      };
    case 'expression':
      return expressionJudgement(rule);
    case 'missing_data':
      return {
        rule: plain('>=', [{ severity: rule.severity, threshold: 1 }], rule.for, rule.keep_firing_for),
        inputs: rule.inputs,
        lookback: none,
        derive: (of, frequency, filingsOf) => absences(rule, of(rule.metric), frequency, filingsOf()),
      };
    case 'peer_outlier':
      return {
        rule: { ...plain(rule.op, rule.levels, rule.for, rule.keep_firing_for), recovery: rule.recovery },
        inputs: own,
        lookback: none,
      };
    case 'region_aggregate':
      return {
        rule: { ...plain(rule.op, rule.levels, rule.for, rule.keep_firing_for), recovery: rule.recovery },
        inputs: [rule.components.numerator, rule.components.denominator],
        lookback: none,
      };
  }
}

/**
 * Each period the institution filed (a current submission of the metric's frequency): 1 when the rule's
 * metric is not in it, else 0 (the metric's own observation, which may come from a period filed as such).
 */
function absences(
  rule: MissingDataRule,
  own: readonly Observation[],
  frequency: Frequency,
  filings: readonly Filing[],
): Observation[] {
  const present = indexByPeriod(own, frequency);
  const periods = new Map<number, Observation>();
  for (const f of filings) {
    const period = parsePeriod(f.period);
    // A submission of the other frequency (a quarter) says nothing about this metric's periods.
    if (!period || period.frequency !== frequency) continue;
    const n = periodOrdinal(period);
    const seen = periods.get(n);
    if (!seen || (f.submissionId ?? -1) > (seen.submissionId ?? -1)) {
      periods.set(n, {
        institution: f.institution,
        metric: rule.metric,
        period: f.period,
        value: 1,
        submissionId: f.submissionId,
      });
    }
  }
  for (const [n, { o }] of present) periods.set(n, at(o, 0));
  return [...periods].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
}

/**
 * An expression's series: its value in each period where every metric it reads is reported (1 or 0
 * for a condition, judged `>= 1` at its severity). A period missing any input is a gap, and so is one
 * where a value cannot be computed (a division by zero).
 */
function expressionJudgement(rule: ExpressionRule): Judgement {
  const env = new Environment();
  for (const input of rule.inputs) env.registerVariable(input, 'double');
  const run = env.parse(rule.condition ?? rule.value ?? '');
  const compute = (values: Record<string, number>): number => {
    const result = run(values);
    if (rule.condition !== undefined) return result === true ? 1 : 0;
    return Number(result);
  };
  const judged: SeriesRule =
    rule.condition !== undefined
      ? plain('>=', [{ severity: rule.severity ?? 'warning', threshold: 1 }], rule.for, rule.keep_firing_for)
      : {
          ...plain(rule.op ?? '>', rule.levels ?? [], rule.for, rule.keep_firing_for),
          recovery: rule.recovery,
        };
  return {
    rule: judged,
    inputs: rule.inputs,
    lookback: () => 0,
    derive: (seriesOf, frequency) => {
      const indexed = rule.inputs.map((m) => indexByPeriod(seriesOf(m), frequency));
      const subject = indexByPeriod(seriesOf(rule.metric), frequency);
      const derived: Observation[] = [];
      const periods = [...(indexed[0]?.keys() ?? [])].sort((a, b) => a - b);
      for (const n of periods) {
        const points = indexed.map((byOrdinal) => byOrdinal.get(n)?.o);
        if (points.some((p) => p === undefined)) continue;
        const observed = points as Observation[];
        const value = compute(
          Object.fromEntries(rule.inputs.map((m, i) => [m, (observed[i] as Observation).value])),
        );
        if (!Number.isFinite(value)) continue;
        // Filed under the rule's metric: its observation where it has one, else the newest input's.
        const newest = observed.reduce((a, b) => ((b.submissionId ?? -1) > (a.submissionId ?? -1) ? b : a));
        derived.push(at(subject.get(n)?.o ?? { ...newest, metric: rule.metric }, value));
      }
      return derived;
    },
  };
}

function plain(
  op: ThresholdRule['op'],
  levels: ThresholdRule['levels'],
  forPeriods: number,
  keepFiringFor: number,
): SeriesRule {
  return { op, levels, recovery: undefined, overrides: [], for: forPeriods, keep_firing_for: keepFiringFor };
}

/**
 * A series by period ordinal, the newer submission winning where two share a period.
 * @throws when a period is not of the metric's frequency or a value is not finite.
 */
export function indexByPeriod(
  series: readonly Observation[],
  frequency: Frequency,
): Map<number, { o: Observation; period: Period }> {
  const byOrdinal = new Map<number, { o: Observation; period: Period }>();
  for (const o of series) {
    const period = parsePeriod(o.period);
    if (!period || period.frequency !== frequency) {
      throw new Error(
        `${o.institution} ${o.metric}: period ${JSON.stringify(o.period)} is not a ${frequency} period`,
      );
    }
    if (!Number.isFinite(o.value))
      throw new Error(`${o.institution} ${o.metric} ${o.period}: value ${o.value} is not finite`);
    const ordinal = periodOrdinal(period);
    const existing = byOrdinal.get(ordinal);
    // Callers pass current versions only; should two share a period, the newer submission wins.
    if (!existing || (o.submissionId ?? -1) >= (existing.o.submissionId ?? -1))
      byOrdinal.set(ordinal, { o, period });
  }
  return byOrdinal;
}

/** The series in period order, as (ordinal, observation) pairs. */
export function ordered(series: readonly Observation[], frequency: Frequency): [number, Observation][] {
  return [...indexByPeriod(series, frequency)].sort((a, b) => a[0] - b[0]).map(([n, { o }]) => [n, o]);
}

/**
 * The derived value for `o`'s period, keeping its institution, metric and submission. Rounded to 12
 * significant digits: 4.4 − 3.4 is 1.0000000000000009 in binary, and a change "above 1 point" must not
 * fire on it.
 */
export function at(o: Observation, value: number): Observation {
  return { ...o, value: Number(value.toPrecision(12)) };
}

/** The periods between a value and the one a change rule compares it with. */
export function changeLag(rule: ChangeRule, frequency: Frequency): number {
  return rule.compare === 'previous' ? 1 : frequency === 'monthly' ? 12 : 4;
}

/** Each period's change against the previous period or the same period a year earlier. */
function changes(rule: ChangeRule, series: readonly Observation[], frequency: Frequency): Observation[] {
  const lag = changeLag(rule, frequency);
  const points = ordered(series, frequency);
  const byOrdinal = new Map(points);
  const derived: Observation[] = [];
  for (const [n, o] of points) {
    const before = byOrdinal.get(n - lag);
    if (!before) continue;
    if (rule.unit === 'points') derived.push(at(o, o.value - before.value));
    // A change in percent of nothing is undefined: that period is a gap.
    else if (before.value !== 0)
      derived.push(at(o, ((o.value - before.value) / Math.abs(before.value)) * 100));
  }
  return derived;
}

/**
 * Each period's count of consecutive moves in the worse direction ending there, counted up to the rule's
 * `periods`: whether the last N moves were all worse is all the judgement needs, and a count that stops
 * at N depends only on the last N + 1 periods, so a window of recent periods gives the same series as
 * the whole history. How long the moves have gone on beyond N is the run's length: N + periods − 1
 * (see {@link trendCount}).
 */
function declines(rule: TrendRule, series: readonly Observation[], frequency: Frequency): Observation[] {
  const derived: Observation[] = [];
  let previous: [number, Observation] | undefined;
  let count = 0;
  for (const point of ordered(series, frequency)) {
    const [n, o] = point;
    if (previous && previous[0] === n - 1) {
      const worse =
        rule.direction === 'increasing' ? o.value > previous[1].value : o.value < previous[1].value;
      count = worse ? Math.min(count + 1, rule.periods) : 0;
      derived.push(at(o, count));
    } else {
      // The first period, or one after a gap: no move to judge, and the count starts again.
      count = 0;
    }
    previous = point;
  }
  return derived;
}

/**
 * Each period's projection: its value carried `horizon` periods ahead at the least-squares slope of the
 * `fit` consecutive periods ending there. Periods without `fit` consecutive values before them are gaps.
 */
function projections(
  rule: ProjectionRule,
  series: readonly Observation[],
  frequency: Frequency,
): Observation[] {
  const points = ordered(series, frequency);
  const derived: Observation[] = [];
  for (let end = rule.fit - 1; end < points.length; end++) {
    const window = points.slice(end - rule.fit + 1, end + 1);
    const first = window[0]?.[0] ?? 0;
    const last = window.at(-1) as [number, Observation];
    if (last[0] - first !== rule.fit - 1) continue; // a gap inside the window
    derived.push(
      at(
        last[1],
        projectAhead(
          window.map(([, o]) => o.value),
          rule.horizon,
        ),
      ),
    );
  }
  return derived;
}

/**
 * The last of `values` (one per period) carried `horizon` periods ahead at their least-squares slope.
 * Anchored at the latest value, not at the fitted line: after a sharp recovery the line still points
 * where the bank was heading months ago, while the latest value says where it stands.
 */
export function projectAhead(values: readonly number[], horizon: number): number {
  return (values.at(-1) ?? 0) + leastSquaresSlope(values) * horizon;
}

/** The ordinary least-squares slope of `values` over equally spaced periods (0 for a single value). */
export function leastSquaresSlope(values: readonly number[]): number {
  const n = values.length;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  values.forEach((y, x) => {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  });
  return sxx === 0 ? 0 : sxy / sxx;
}

/**
 * The consecutive worse moves a trend alert stands for: N when its run starts (the N-th move), one more
 * for each further period of the run.
 */
export function trendCount(rule: TrendRule, runPeriods: number): number {
  return rule.periods + runPeriods - 1;
}

/** The value of a series in a period, from its newest submission. */
export function valueIn(series: readonly Observation[], period: string): number | undefined {
  let found: Observation | undefined;
  for (const o of series) {
    if (o.period === period && (!found || (o.submissionId ?? -1) >= (found.submissionId ?? -1))) found = o;
  }
  return found?.value;
}
