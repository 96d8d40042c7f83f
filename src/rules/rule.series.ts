import { type Frequency, parsePeriod, periodOrdinal } from '../catalog/period.js';
import type { Observation } from './evaluate.js';
import { breaches, type Level, sortLevels, type ThresholdRule } from './rule.schema.js';

/** What one rule says about one institution's series, judged at its latest period. */
export type Assessment =
  | { readonly breached: false; readonly latest: Observation }
  | {
      readonly breached: true;
      readonly latest: Observation;
      /** The highest level breached in the latest period. */
      readonly level: Level;
      /** Consecutive breaching periods ending at the latest one. */
      readonly periods: number;
      readonly firstPeriod: string;
    };

/**
 * Judges a series (one institution, one metric) at its latest period. A period breaches when its
 * value breaches the rule's lowest level; the run counts back over adjacent periods only, so a
 * missing period ends it. Returns `undefined` for an empty series.
 * @throws when a period is not of the metric's frequency or a value is not finite: bad data must
 *   show in the rule's health rather than silently resolve or fire an alert.
 */
export function assessSeries(
  rule: Pick<ThresholdRule, 'op' | 'levels'>,
  series: readonly Observation[],
  frequency: Frequency,
): Assessment | undefined {
  const byOrdinal = new Map<number, Observation>();
  let latestOrdinal = Number.NEGATIVE_INFINITY;
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
    if (!existing || (o.submissionId ?? -1) >= (existing.submissionId ?? -1)) byOrdinal.set(ordinal, o);
    latestOrdinal = Math.max(latestOrdinal, ordinal);
  }
  const latest = byOrdinal.get(latestOrdinal);
  if (!latest) return undefined;

  const levels = sortLevels(rule.levels);
  const lowest = levels[0];
  if (!lowest) throw new Error('rule has no levels');
  const breachesLowest = (o: Observation | undefined) =>
    o !== undefined && breaches(rule.op, o.value, lowest.threshold);
  if (!breachesLowest(latest)) return { breached: false, latest };

  let first = latest;
  let periods = 0;
  for (let ordinal = latestOrdinal; ; ordinal--) {
    const o = byOrdinal.get(ordinal);
    if (!o || !breachesLowest(o)) break;
    first = o;
    periods++;
  }
  const level = levels.filter((l) => breaches(rule.op, latest.value, l.threshold)).at(-1) ?? lowest;
  return { breached: true, latest, level, periods, firstPeriod: first.period };
}
