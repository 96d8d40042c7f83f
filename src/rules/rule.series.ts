import type { ActiveAlert } from '../alerts/alert.types.js';
import {
  type Frequency,
  mustParsePeriod,
  type Period,
  parsePeriod,
  periodOrdinal,
  shiftPeriod,
} from '../catalog/period.js';
import type { Observation } from './evaluate.js';
import { indexByPeriod } from './rule.derived.js';
import { breaches, type Level, type ThresholdRule } from './rule.schema.js';
import { type Thresholds, type ThresholdsAt, thresholdsFor } from './rule.thresholds.js';

/** What one rule says about one institution's series, judged at its latest period. */
export type Assessment =
  | { readonly breached: false; readonly latest: Observation }
  | {
      readonly breached: true;
      readonly latest: Observation;
      /** Whether the alert fires: its run has lasted `for` periods, or it carries on a firing alert. */
      readonly firing: boolean;
      /** The highest level breached in the latest period (the lowest while held by hysteresis). */
      readonly level: Level;
      /** The thresholds in effect in the latest period. */
      readonly thresholds: Thresholds;
      /** Consecutive breaching periods ending at the latest one (or at the last breach, when kept). */
      readonly periods: number;
      readonly firstPeriod: string;
      /**
       * Set when the condition has cleared but the alert keeps firing (`keep_firing_for`): the last
       * breaching observation, which the alert's summary describes; or, in a windowed evaluation where
       * that breach lies before the window, the previous alert that described it.
       */
      readonly kept?: Observation | { readonly describedBy: ActiveAlert };
    };

/** The parts of a threshold rule that judge a series. */
export type SeriesRule = Pick<
  ThresholdRule,
  'op' | 'levels' | 'recovery' | 'overrides' | 'for' | 'keep_firing_for'
>;

/**
 * Where a walk stands after a period: the run of breaching periods ending there, or a firing alert
 * kept after its run ended. A missing period, a period that clears, or one kept too long leaves neither.
 */
export interface WalkState {
  readonly run?: {
    readonly firstPeriod: string;
    readonly periods: number;
    /** The run has lasted `for` periods, or it began while a firing alert was kept. */
    readonly firing: boolean;
    /** The run's latest breach: its observation, or the previous alert describing it. */
    readonly last: Observation | { readonly describedBy: ActiveAlert };
  };
  readonly kept?: {
    readonly firstPeriod: string;
    readonly periods: number;
    /** Reported periods since the run ended, none of them breaching. */
    readonly clear: number;
    readonly breach: Observation | { readonly describedBy: ActiveAlert };
  };
}

/**
 * Where a windowed evaluation starts a series (see `EvaluationInput.window`): at the window's latest
 * period (an ordinal), from the state the previous alert recorded for the period before it.
 */
export interface SeriesSeed {
  readonly latest: number;
  /** The series' value in that period (its newest submission). */
  readonly point: Observation;
  readonly before: WalkState;
}

/**
 * The state a previous alert records for its own period: the run it describes, still in progress when
 * the run reaches that period, else (a firing alert kept after its run) the keeping.
 */
export function stateOf(alert: ActiveAlert): WalkState {
  const first = parsePeriod(alert.firstPeriod);
  const at = parsePeriod(alert.period);
  if (!first || !at) return {};
  // Runs are adjacent periods, so a run ends `periods − 1` after its first period.
  const end = periodOrdinal(first) + alert.periods - 1;
  const latest = periodOrdinal(at);
  if (end >= latest) {
    return {
      run: {
        firstPeriod: alert.firstPeriod,
        periods: alert.periods,
        firing: alert.state === 'firing',
        last: { describedBy: alert },
      },
    };
  }
  if (alert.state !== 'firing') return {};
  return {
    kept: {
      firstPeriod: alert.firstPeriod,
      periods: alert.periods,
      clear: latest - end,
      breach: { describedBy: alert },
    },
  };
}

/**
 * One period's step of the walk: a value that breaches the lowest level in effect starts a run (or, with
 * a run going, one that still breaches the recovery level, the lowest level without one, continues it);
 * a run fires once it lasts `for` periods, and a run that begins while a firing alert is kept fires at
 * once (the alert never stopped). A value that does not continue a run ends it: a firing run is then
 * kept for `keep_firing_for` reported periods.
 */
function step(rule: SeriesRule, state: WalkState, o: Observation, thresholds: Thresholds): WalkState {
  const lowest = thresholds.levels[0];
  if (!lowest) throw new Error('rule has no levels');
  const { run, kept } = state;
  const holds = run
    ? breaches(rule.op, o.value, thresholds.recovery ?? lowest.threshold)
    : breaches(rule.op, o.value, lowest.threshold);
  if (holds) {
    const periods = (run?.periods ?? 0) + 1;
    return {
      run: {
        firstPeriod: run?.firstPeriod ?? o.period,
        periods,
        firing: (run?.firing ?? kept !== undefined) || periods >= rule.for,
        last: o,
      },
    };
  }
  if (run?.firing) {
    if (rule.keep_firing_for < 1) return {};
    return { kept: { firstPeriod: run.firstPeriod, periods: run.periods, clear: 1, breach: run.last } };
  }
  if (kept && kept.clear < rule.keep_firing_for) return { kept: { ...kept, clear: kept.clear + 1 } };
  return {};
}

/**
 * Judges a series (one institution, one metric) at its latest period, walking its periods in order from
 * the first (see {@link step}); a missing period ends a run and any keeping. Returns `undefined` for an
 * empty series. Judged from the data alone, so evaluating again gives the same answer.
 *
 * With a `seed` (a windowed evaluation), only the window's latest period is walked, from the state the
 * previous alert recorded for the period before it; a series with no value in that period is not judged
 * (`undefined`): its data has not changed since its previous alert was computed, so the whole history
 * would judge it as before. The answer is the whole history's as long as nothing before the window
 * changed since that alert was computed.
 * @throws when a period is not of the metric's frequency or a value is not finite: bad data must
 *   show in the rule's health rather than silently resolve or fire an alert.
 */
export function assessSeries(
  rule: SeriesRule,
  series: readonly Observation[],
  frequency: Frequency,
  thresholdsAt: ThresholdsAt = thresholdsFor(rule, { code: '', type: '' }),
  seed?: SeriesSeed,
): Assessment | undefined {
  if (seed) return assessPoint(rule, seed, frequency, thresholdsAt);
  const byOrdinal = indexByPeriod(series, frequency);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const ordinal of byOrdinal.keys()) {
    first = Math.min(first, ordinal);
    last = Math.max(last, ordinal);
  }
  const latest = byOrdinal.get(last);
  if (!latest) return undefined;

  let state: WalkState = {};
  for (let ordinal = first; ordinal <= last; ordinal++) {
    const at = byOrdinal.get(ordinal);
    state = at ? step(rule, state, at.o, thresholdsAt(at.period)) : {};
  }
  return assessmentOf(rule, state, latest, thresholdsAt);
}

/**
 * A windowed judgement: one step from the state before the window's latest period, with the series'
 * value there (the rest of the series is not read, so not checked either).
 */
function assessPoint(
  rule: SeriesRule,
  seed: SeriesSeed,
  frequency: Frequency,
  thresholdsAt: ThresholdsAt,
): Assessment {
  const { point } = seed;
  const period = parsePeriod(point.period);
  if (!period || period.frequency !== frequency) {
    throw new Error(
      `${point.institution} ${point.metric}: period ${JSON.stringify(point.period)} is not a ${frequency} period`,
    );
  }
  if (!Number.isFinite(point.value))
    throw new Error(
      `${point.institution} ${point.metric} ${point.period}: value ${point.value} is not finite`,
    );
  const state = step(rule, seed.before, point, thresholdsAt(period));
  return assessmentOf(rule, state, { o: point, period }, thresholdsAt);
}

/** What the walk's final state says of the series at its latest period. */
function assessmentOf(
  rule: SeriesRule,
  state: WalkState,
  latest: { readonly o: Observation; readonly period: Period },
  thresholdsAt: ThresholdsAt,
): Assessment {
  const { run, kept } = state;
  if (run) {
    const thresholds = thresholdsAt(latest.period);
    const lowest = thresholds.levels[0] as Level;
    const level =
      thresholds.levels.filter((l) => breaches(rule.op, latest.o.value, l.threshold)).at(-1) ?? lowest;
    return {
      breached: true,
      latest: latest.o,
      firing: run.firing,
      level,
      thresholds,
      periods: run.periods,
      firstPeriod: run.firstPeriod,
    };
  }
  if (kept) {
    const { breach } = kept;
    if ('describedBy' in breach) {
      // The breach lies before the window: its level and legal basis are the previous alert's.
      const { severity, threshold } = breach.describedBy;
      // The run's last period: where the breach was, whose thresholds it was judged by.
      const end = shiftPeriod(mustParsePeriod(kept.firstPeriod), kept.periods - 1);
      return {
        breached: true,
        latest: latest.o,
        firing: true,
        level: { severity, threshold },
        thresholds: thresholdsAt(end),
        periods: kept.periods,
        firstPeriod: kept.firstPeriod,
        kept: breach,
      };
    }
    // Kept firing: at the severity of the last breach, by the thresholds of its period.
    const atBreach = thresholdsAt(parsePeriod(breach.period) as Period);
    const level =
      atBreach.levels.filter((l) => breaches(rule.op, breach.value, l.threshold)).at(-1) ??
      (atBreach.levels[0] as Level);
    return {
      breached: true,
      latest: latest.o,
      firing: true,
      level,
      thresholds: atBreach,
      periods: kept.periods,
      firstPeriod: kept.firstPeriod,
      kept: breach,
    };
  }
  return { breached: false, latest: latest.o };
}
