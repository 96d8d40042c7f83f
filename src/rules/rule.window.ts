import type { Catalog } from '../catalog/catalog.js';
import { type Frequency, formatPeriod, mustParsePeriod, shiftPeriod } from '../catalog/period.js';
import { judgementOf } from './rule.derived.js';
import type { Rule } from './rule.schema.js';

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
