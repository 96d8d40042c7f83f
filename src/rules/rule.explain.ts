import {
  type ActiveAlert,
  type AlertExplanation,
  EXPLAINED_PERIODS,
  type ExplainedPeriod,
  type ExplanationDetail,
} from '../alerts/alert.types.js';
import type { MetricDef } from '../catalog/catalog.schema.js';
import {
  type Frequency,
  formatPeriod,
  mustParsePeriod,
  periodOrdinal,
  shiftPeriod,
} from '../catalog/period.js';
import type { Observation } from './evaluate.js';
import { changeLag, indexByPeriod, leastSquaresSlope, ordered } from './rule.derived.js';
import type { MetricRule, Op, Rule } from './rule.schema.js';
import type { Assessment, SeriesRule } from './rule.series.js';
import type { Thresholds } from './rule.thresholds.js';

/** What an explanation calls the quantity judged. */
export type Quantity = AlertExplanation['quantity'];

/** The quantity a rule judges, named and in its unit (see `AlertExplanation.quantity`). */
export function quantityOf(rule: MetricRule, metric: Pick<MetricDef, 'unit'>): Quantity {
  const q = (name: string, unit: string): Quantity => ({ metric: rule.metric, name, unit });
  switch (rule.kind) {
    case 'threshold':
      return q('value', metric.unit);
    case 'change':
      return rule.unit === 'points' ? q('change', metric.unit) : q('relative_change', 'percent_change');
    case 'trend':
      return q('moves', 'periods');
    case 'projection':
      return q('projected_value', metric.unit);
    case 'expression':
      return rule.condition !== undefined ? q('condition', 'flag') : q('expression', metric.unit);
    case 'missing_data':
      return q('missing', 'flag');
    case 'peer_outlier':
      return rule.method === 'robust_z' ? q('robust_z', 'z') : q('percentile_rank', 'percentile');
    case 'region_aggregate':
      return q('aggregate', metric.unit);
  }
}

/**
 * How far `value` is beyond `threshold` on the breached side of `op` (negative on the safe side), rounded
 * to 12 significant digits so 4.3 − 4 reads 0.3.
 */
export function marginOf(op: Op, value: number, threshold: number): number {
  const raw = op === '>' || op === '>=' ? value - threshold : threshold - value;
  return Number(raw.toPrecision(12));
}

/** The parts of an explanation its builder is given; the periods may be longer than the cap. */
export interface ExplanationParts {
  readonly rule: Pick<Rule, 'id' | 'kind' | 'source' | 'reason'>;
  readonly quantity: Quantity;
  readonly period: string;
  readonly value: number;
  readonly op: Op;
  readonly threshold: number;
  readonly thresholds: Thresholds;
  readonly run: AlertExplanation['run'];
  /** Oldest first; only the last {@link EXPLAINED_PERIODS} are kept. */
  readonly periods: readonly ExplainedPeriod[];
  /** Periods of the run already left out by the caller. */
  readonly omitted?: number;
  readonly detail: ExplanationDetail;
}

/** Assembles an explanation: the margin, the levels and override in effect, the periods capped. */
export function explanation(parts: ExplanationParts): AlertExplanation {
  const { thresholds } = parts;
  const kept =
    parts.periods.length > EXPLAINED_PERIODS ? parts.periods.slice(-EXPLAINED_PERIODS) : parts.periods;
  const o = thresholds.override;
  return {
    rule: {
      id: parts.rule.id,
      kind: parts.rule.kind,
      source: o?.source ?? parts.rule.source,
      reason: parts.rule.reason ?? null,
    },
    quantity: parts.quantity,
    period: parts.period,
    value: parts.value,
    op: parts.op,
    threshold: parts.threshold,
    margin: marginOf(parts.op, parts.value, parts.threshold),
    levels: thresholds.levels.map((l) => ({ severity: l.severity, threshold: l.threshold })),
    recovery: thresholds.recovery ?? null,
    override: o
      ? {
          source: o.source,
          institutions: o.institutions ?? null,
          types: o.types ?? null,
          from: o.from ?? null,
          until: o.until ?? null,
        }
      : null,
    run: parts.run,
    periods: kept,
    periods_omitted: (parts.omitted ?? 0) + parts.periods.length - kept.length,
    detail: parts.detail,
  };
}

/** What explaining one judged series takes. */
export interface SeriesExplainInput {
  readonly rule: MetricRule;
  readonly judged: SeriesRule;
  readonly metric: Pick<MetricDef, 'unit'>;
  /** The assessment of `watched` at its latest period: an alert (breached) or its resolution. */
  readonly assessment: Assessment;
  /** The thresholds in effect in the latest period (a resolution is explained against them). */
  readonly thresholdsAtLatest: Thresholds;
  /** The series judged: the metric's own, or the one the rule derived from it. */
  readonly watched: readonly Observation[];
  /** The metric's own series, where the rule judged something derived from it. */
  readonly observed: readonly Observation[] | undefined;
  readonly frequency: Frequency;
  readonly detail: ExplanationDetail;
}

/**
 * The explanation of a series judged at its latest period. For an alert: the level breached (the last
 * breach's while kept firing), the run from its first period to the latest. For a resolution: the latest
 * value against the level it had to clear — the recovery level where set, else the lowest threshold — and
 * that period alone.
 */
export function explainSeries(input: SeriesExplainInput): AlertExplanation {
  const { assessment, judged, frequency } = input;
  const { latest } = assessment;
  const base = {
    rule: input.rule,
    quantity: quantityOf(input.rule, input.metric),
    period: latest.period,
    value: latest.value,
    op: judged.op,
    detail: input.detail,
  };
  if (!assessment.breached) {
    const t = input.thresholdsAtLatest;
    return explanation({
      ...base,
      threshold: t.recovery ?? t.levels[0]?.threshold ?? 0,
      thresholds: t,
      run: { first_period: latest.period, periods: 0, for: judged.for, kept_since: null },
      ...runPeriods(input.watched, input.observed, frequency, latest.period, latest.period),
    });
  }
  return explanation({
    ...base,
    threshold: assessment.level.threshold,
    thresholds: assessment.thresholds,
    run: {
      first_period: assessment.firstPeriod,
      periods: assessment.periods,
      for: judged.for,
      kept_since: keptSince(assessment),
    },
    ...runPeriods(input.watched, input.observed, frequency, assessment.firstPeriod, latest.period),
  });
}

/**
 * The periods from `first` to `last` of a judged series, each with the metric's own value (from
 * `observed` where given, else the judged value itself), the judged value where it differs, and its
 * submission; at most the last {@link EXPLAINED_PERIODS}, with the count of those left out before them.
 */
export function runPeriods(
  watched: readonly Observation[],
  observed: readonly Observation[] | undefined,
  frequency: Frequency,
  first: string,
  last: string,
): { periods: ExplainedPeriod[]; omitted: number } {
  const from = periodOrdinal(mustParsePeriod(first));
  const to = periodOrdinal(mustParsePeriod(last));
  const start = Math.max(from, to - EXPLAINED_PERIODS + 1);
  const judged = indexByPeriod(watched, frequency);
  const own = observed ? indexByPeriod(observed, frequency) : undefined;
  const periods: ExplainedPeriod[] = [];
  let omitted = 0;
  for (let n = from; n < start; n++) if (judged.has(n)) omitted++;
  for (let n = start; n <= to; n++) {
    const w = judged.get(n)?.o;
    if (!w) continue;
    periods.push({
      period: w.period,
      value: own ? (own.get(n)?.o.value ?? null) : w.value,
      judged: own ? w.value : null,
      submission_id: w.submissionId,
    });
  }
  return { periods, omitted };
}

/**
 * The kind-specific facts of a series rule's judgement at `latest` (a period of the derived series),
 * read from the institution's series by metric: the reference of a change, the moves of a trend, the
 * fitted window of a projection, the inputs of an expression.
 */
export function seriesDetail(
  rule: MetricRule,
  seriesOf: (metric: string) => readonly Observation[],
  frequency: Frequency,
  latest: Observation,
): ExplanationDetail {
  const at = periodOrdinal(mustParsePeriod(latest.period));
  switch (rule.kind) {
    case 'change': {
      const lag = changeLag(rule, frequency);
      const reference = indexByPeriod(seriesOf(rule.metric), frequency).get(at - lag)?.o;
      return {
        kind: 'change',
        compare: rule.compare,
        unit: rule.unit,
        reference: reference
          ? { period: reference.period, value: reference.value, submission_id: reference.submissionId }
          : null,
      };
    }
    case 'trend': {
      const byOrdinal = indexByPeriod(seriesOf(rule.metric), frequency);
      const moves: { period: string; from: number; to: number }[] = [];
      for (let n = at; moves.length < EXPLAINED_PERIODS; n--) {
        const to = byOrdinal.get(n)?.o;
        const from = byOrdinal.get(n - 1)?.o;
        if (!to || !from) break;
        const worse = rule.direction === 'increasing' ? to.value > from.value : to.value < from.value;
        if (!worse) break;
        moves.unshift({ period: to.period, from: from.value, to: to.value });
      }
      return { kind: 'trend', direction: rule.direction, required: rule.periods, moves };
    }
    case 'projection': {
      const window = ordered(seriesOf(rule.metric), frequency)
        .filter(([n]) => n > at - rule.fit && n <= at)
        .map(([, o]) => ({ period: o.period, value: o.value }));
      const values = window.map((w) => w.value);
      const slope = leastSquaresSlope(values);
      const last = values.at(-1) ?? 0;
      return {
        kind: 'projection',
        method: 'ols_slope_from_latest',
        fit: rule.fit,
        horizon: rule.horizon,
        slope: Number(slope.toPrecision(12)),
        latest: last,
        projected: Number((last + slope * rule.horizon).toPrecision(12)),
        window,
      };
    }
    case 'expression':
      return {
        kind: 'expression',
        mode: rule.condition !== undefined ? 'condition' : 'value',
        expression: rule.condition ?? rule.value ?? '',
        inputs: rule.inputs.flatMap((metric) => {
          const o = indexByPeriod(seriesOf(metric), frequency).get(at)?.o;
          return o ? [{ metric, value: o.value }] : [];
        }),
      };
    case 'missing_data':
      return { kind: 'missing_data', missing: rule.metric };
    default:
      return { kind: 'threshold' };
  }
}

/** The period of an alert's last breach while it is kept firing; `null` while its run goes on. */
function keptSince(assessment: Extract<Assessment, { breached: true }>): string | null {
  const { kept } = assessment;
  if (!kept) return null;
  if (!('describedBy' in kept)) return kept.period;
  // A breach before a windowed evaluation's window: the last period of the run the alert records.
  const first = mustParsePeriod(assessment.firstPeriod);
  return formatPeriod(shiftPeriod(first, assessment.periods - 1));
}

/**
 * Carries on the explanation of an alert judged in a window (see `EvaluationInput.window`), whose run
 * or keeping began before the window: the periods its previous alert listed from the run's first period
 * on, then the judged one, at most the last {@link EXPLAINED_PERIODS} with the earlier ones counted; and
 * for a trend, the moves the previous alert listed before the window's. So the explanation reads as the
 * whole history's would. A run that starts in the judged period needs nothing from before.
 */
export function continueExplanation(
  prev: ActiveAlert | undefined,
  fresh: AlertExplanation,
  assessment: Extract<Assessment, { breached: true }>,
): AlertExplanation {
  const before = prev?.explanation;
  if (!before || assessment.firstPeriod === fresh.period) return fresh;
  const first = periodOrdinal(mustParsePeriod(assessment.firstPeriod));
  const judged = periodOrdinal(mustParsePeriod(fresh.period));
  const carried = before.periods.filter((p) => {
    const n = periodOrdinal(mustParsePeriod(p.period));
    return n >= first && n < judged;
  });
  // The earlier periods the previous alert had already left out belong to the same run when its run
  // began where this one does.
  const omittedBefore = before.run.first_period === assessment.firstPeriod ? before.periods_omitted : 0;
  const own = fresh.periods.filter((p) => periodOrdinal(mustParsePeriod(p.period)) >= judged);
  const all = [...carried, ...own];
  const periods = all.length > EXPLAINED_PERIODS ? all.slice(-EXPLAINED_PERIODS) : all;
  let detail = fresh.detail;
  if (detail.kind === 'trend' && before.detail.kind === 'trend' && detail.moves.length > 0) {
    const start = periodOrdinal(mustParsePeriod((detail.moves[0] as { period: string }).period));
    const earlier = before.detail.moves.filter((m) => periodOrdinal(mustParsePeriod(m.period)) < start);
    // Moves chain only when the earliest of the window's moves follows the last of the earlier ones.
    const last = earlier.at(-1);
    const joined = last !== undefined && periodOrdinal(mustParsePeriod(last.period)) === start - 1;
    if (joined) {
      const moves = [...earlier, ...detail.moves];
      detail = {
        ...detail,
        moves: moves.length > EXPLAINED_PERIODS ? moves.slice(-EXPLAINED_PERIODS) : moves,
      };
    }
  }
  return {
    ...fresh,
    periods,
    periods_omitted: omittedBefore + all.length - periods.length,
    detail,
  };
}
