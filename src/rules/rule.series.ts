import { type Frequency, type Period, parsePeriod } from '../catalog/period.js';
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
      /** The highest level breached in the latest period (the lowest while held by hysteresis). */
      readonly level: Level;
      /** The thresholds in effect in the latest period. */
      readonly thresholds: Thresholds;
      /** Consecutive breaching periods ending at the latest one (or at `kept.period`). */
      readonly periods: number;
      readonly firstPeriod: string;
      /**
       * Set when the condition has cleared but the alert keeps firing (`keep_firing_for`): the last
       * breaching observation, which the alert's summary describes.
       */
      readonly kept?: Observation;
    };

/** The parts of a threshold rule that judge a series. */
export type SeriesRule = Pick<
  ThresholdRule,
  'op' | 'levels' | 'recovery' | 'overrides' | 'for' | 'keep_firing_for'
>;

/**
 * Judges a series (one institution, one metric) at its latest period, walking its periods in order:
 * a run of breaching periods starts when a value breaches the lowest level in effect in its period;
 * it goes on while values breach the recovery level (the lowest level when the rule has none) and
 * ends at one that does not, or at a missing period. The series is breached when a run reaches its
 * latest period, or when a run that had lasted `for` periods (a firing alert) ended no more than
 * `keep_firing_for` reported periods ago, with no period missing since. Returns `undefined` for an
 * empty series. Judged from the data alone, so evaluating again gives the same answer.
 * @throws when a period is not of the metric's frequency or a value is not finite: bad data must
 *   show in the rule's health rather than silently resolve or fire an alert.
 */
export function assessSeries(
  rule: SeriesRule,
  series: readonly Observation[],
  frequency: Frequency,
  thresholdsAt: ThresholdsAt = thresholdsFor(rule, { code: '', type: '' }),
): Assessment | undefined {
  const byOrdinal = indexByPeriod(series, frequency);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const ordinal of byOrdinal.keys()) {
    first = Math.min(first, ordinal);
    last = Math.max(last, ordinal);
  }
  const latest = byOrdinal.get(last);
  if (!latest) return undefined;

  // The run in progress, and the last run that reached `for` (what keep_firing_for extends).
  let run: { first: Observation; periods: number; last: Observation } | undefined;
  let fired: { first: Observation; periods: number; last: Observation; clear: number } | undefined;
  for (let ordinal = first; ordinal <= last; ordinal++) {
    const at = byOrdinal.get(ordinal);
    if (!at) {
      // A missing period ends a run, and a firing alert is not kept across it.
      run = undefined;
      fired = undefined;
      continue;
    }
    const { levels, recovery } = thresholdsAt(at.period);
    const lowest = levels[0];
    if (!lowest) throw new Error('rule has no levels');
    const value = at.o.value;
    const holds = run
      ? breaches(rule.op, value, recovery ?? lowest.threshold)
      : breaches(rule.op, value, lowest.threshold);
    if (holds) {
      run = run ? { ...run, periods: run.periods + 1, last: at.o } : { first: at.o, periods: 1, last: at.o };
      if (run.periods >= rule.for) fired = { ...run, clear: 0 };
    } else {
      run = undefined;
      if (fired) fired = { ...fired, clear: fired.clear + 1 };
    }
  }

  const thresholds = thresholdsAt(latest.period);
  const lowest = thresholds.levels[0] as Level;
  if (run) {
    const level =
      thresholds.levels.filter((l) => breaches(rule.op, latest.o.value, l.threshold)).at(-1) ?? lowest;
    return {
      breached: true,
      latest: latest.o,
      level,
      thresholds,
      periods: run.periods,
      firstPeriod: run.first.period,
    };
  }
  if (fired && fired.clear <= rule.keep_firing_for) {
    // Kept firing: at the severity of the last breach, by the thresholds of its period.
    const breach = fired.last;
    const atBreach = thresholdsAt(parsePeriod(breach.period) as Period);
    const level =
      atBreach.levels.filter((l) => breaches(rule.op, breach.value, l.threshold)).at(-1) ??
      (atBreach.levels[0] as Level);
    return {
      breached: true,
      latest: latest.o,
      level,
      thresholds: atBreach,
      periods: fired.periods,
      firstPeriod: fired.first.period,
      kept: breach,
    };
  }
  return { breached: false, latest: latest.o };
}
