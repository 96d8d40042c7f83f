import type { ActiveAlert } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import {
  type Frequency,
  formatPeriod,
  mustParsePeriod,
  parsePeriod,
  periodOrdinal,
  shiftPeriod,
} from '../catalog/period.js';
import type { Observation } from './evaluate.js';
import { judgementOf } from './rule.derived.js';
import type { Rule, RuleKind } from './rule.schema.js';
import { type SeriesSeed, stateOf, type WalkState } from './rule.series.js';

/**
 * The periods of each metric a windowed evaluation must read so that every series rule sees what it
 * judges, the latest period of the metric's frequency: per metric as far back as any rule reading it
 * looks (a change a year earlier, a trend's N moves, a projection's fit; a threshold rule, the latest
 * period alone). Metrics of a frequency without a latest period are
 * left out (nothing of that frequency is judged).
 * @returns metric code → every period to read, oldest first.
 */
export function historyWindow(
  rules: readonly Rule[],
  catalog: Catalog,
  latest: Readonly<Partial<Record<Frequency, string>>>,
): Map<string, string[]> {
  const reach = new Map<string, number>();
  for (const rule of rules) {
    if (rule.kind === 'missing_filing') continue;
    const metric = catalog.metrics.get(rule.metric);
    if (!metric) continue;
    const judgement = judgementOf(rule);
    const back = judgement.lookback(metric.frequency);
    for (const code of new Set([rule.metric, ...judgement.inputs])) {
      // Inputs share the rule metric's frequency (checked when the rule loads).
      reach.set(code, Math.max(reach.get(code) ?? 0, back));
    }
  }
  const window = new Map<string, string[]>();
  for (const [code, back] of reach) {
    const frequency = catalog.metrics.get(code)?.frequency;
    const end = frequency ? latest[frequency] : undefined;
    if (!end) continue;
    const last = mustParsePeriod(end);
    const periods: string[] = [];
    for (let k = back; k >= 0; k--) periods.push(formatPeriod(shiftPeriod(last, -k)));
    window.set(code, periods);
  }
  return window;
}

/**
 * A windowed evaluation (see `EvaluationInput.window`): the latest period of each frequency the window
 * ends at, and the rule kinds it applies to (every kind when absent; an upload evaluates peer-outlier
 * rules at its latest period this way while judging the other kinds over the whole history).
 */
export interface EvaluationWindow {
  readonly latest: Readonly<Partial<Record<Frequency, string>>>;
  readonly kinds?: readonly RuleKind[] | undefined;
}

/** Whether a rule is judged in the window: `undefined` when not windowed, else its latest period. */
export function windowFor(
  window: EvaluationWindow | undefined,
  kind: RuleKind,
  frequency: Frequency,
): { readonly text: string | undefined; readonly ordinal: number } | undefined {
  if (!window || (window.kinds && !window.kinds.includes(kind))) return undefined;
  const text = window.latest[frequency];
  return { text, ordinal: text === undefined ? 0 : periodOrdinal(mustParsePeriod(text)) };
}

/**
 * Where a windowed evaluation starts one series: from the state its previous alert recorded, when that
 * alert is of the period before the latest; from nothing when there is no alert or it is older (a
 * missing period came between). `null` when there is nothing to judge: no value in the latest period,
 * or (for a rule that reads one institution's data only) the previous alert already judged that very
 * submission of it, so the data is as it was then.
 */
export function seedOf(
  prev: ActiveAlert | undefined,
  watched: readonly Observation[],
  latest: { readonly text: string | undefined; readonly ordinal: number },
  ownDataOnly: boolean,
): SeriesSeed | null {
  if (latest.text === undefined) return null;
  let point: Observation | undefined;
  for (const o of watched) {
    if (o.period === latest.text && (!point || (o.submissionId ?? -1) >= (point.submissionId ?? -1)))
      point = o;
  }
  if (!point) return null;
  if (!prev) return { latest: latest.ordinal, point, before: {} };
  if (prev.period === latest.text) {
    // Every upload evaluates its institutions over their whole history, so an alert of this period
    // with this submission already says what the history says. A peer or region judgement depends on
    // others' data too: it is judged again, from the state the alert recorded before this period.
    if (ownDataOnly && prev.submissionId === point.submissionId) return null;
    return { latest: latest.ordinal, point, before: priorStateOf(prev) };
  }
  const at = parsePeriod(prev.period);
  const before = at && periodOrdinal(at) === latest.ordinal - 1 ? stateOf(prev) : {};
  return { latest: latest.ordinal, point, before };
}

/**
 * The state before an alert's own period, as far as the alert tells it: the run without its latest
 * period (still firing if it had already lasted `for` periods… which the alert does not record, so a
 * run is taken as firing before only when it is firing now and longer than one period). Used to judge
 * an alert's own period again; an approximation for runs carried on from a kept alert.
 */
function priorStateOf(prev: ActiveAlert): WalkState {
  const explained = prev.explanation?.run;
  const first = parsePeriod(prev.firstPeriod);
  const at = parsePeriod(prev.period);
  if (!first || !at) return {};
  const end = periodOrdinal(first) + prev.periods - 1;
  if (end < periodOrdinal(at)) {
    // Kept at its period: before it, kept one period less (or the run had just ended).
    const clear = periodOrdinal(at) - end - 1;
    if (clear === 0) {
      return {
        run: {
          firstPeriod: prev.firstPeriod,
          periods: prev.periods,
          firing: true,
          last: { describedBy: prev },
        },
      };
    }
    return {
      kept: { firstPeriod: prev.firstPeriod, periods: prev.periods, clear, breach: { describedBy: prev } },
    };
  }
  if (prev.periods <= 1) return {};
  const forPeriods = explained?.for ?? 1;
  return {
    run: {
      firstPeriod: prev.firstPeriod,
      periods: prev.periods - 1,
      firing: prev.state === 'firing' && prev.periods - 1 >= forPeriods,
      last: { describedBy: prev },
    },
  };
}
