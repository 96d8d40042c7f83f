import type { ActiveAlert, Transition } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import { formatPeriod, mustParsePeriod, type Period } from '../catalog/period.js';
import { startOfZonedDay } from '../filing/zoned-day.js';
import { aggregateRegions, evaluate, type InstitutionRef, type Observation } from './evaluate.js';
import { filingsFrom } from './rule.filing.js';
import type { Rule } from './rule.schema.js';

/** Everything a replay reads: a rule set, the institutions in scope and their stored history. */
export interface ReplayInput {
  readonly rules: readonly Rule[];
  readonly catalog: Catalog;
  readonly institutions: readonly InstitutionRef[];
  /** The current version of every observation of these institutions, any period. */
  readonly observations: readonly Observation[];
  /** The regulator's zone: each replayed month is judged at its end there. */
  readonly timeZone: string;
  /** First and last month replayed, `YYYY-MM`, `from` not after `to`. */
  readonly from: string;
  readonly to: string;
  /**
   * Set when `institutions` are some of those registered (a replay naming them): peer-outlier and
   * region-aggregate rules, which judge against the whole population, are then skipped (see
   * {@link POPULATION_SKIPPED}). Otherwise `institutions` are the population: each one's peers are the
   * others, and region totals are summed over all of them.
   */
  readonly subset?: boolean;
}

/** What the rules would have done in one month. */
export interface ReplayStep {
  readonly period: string;
  readonly transitions: readonly Transition[];
  /** Rules that failed in this month (their alerts stayed as they were), with the error. */
  readonly errors: readonly { readonly ruleId: string; readonly error: string }[];
}

/** A replay: the alerts active before `from`, each month's transitions, the alerts active after `to`. */
export interface Replay {
  readonly initial: readonly ActiveAlert[];
  readonly steps: readonly ReplayStep[];
  readonly final: readonly ActiveAlert[];
  /** Rules a replay cannot judge, with why. */
  readonly skipped: readonly { readonly ruleId: string; readonly reason: string }[];
}

/** Why missing-filing rules are left out of a replay. */
export const MISSING_FILING_SKIPPED =
  'missing-filing rules depend on when files arrived, which stored history as it stands now does not replay';

/** Why peer-outlier and region-aggregate rules are left out of a replay of some institutions. */
export const POPULATION_SKIPPED =
  'peer-outlier and region-aggregate rules judge against every institution, which a replay of named institutions does not load: replay all institutions to include them';

/**
 * Replays a rule set month by month over stored history, with the pure `evaluate()` and nothing else:
 * each month is evaluated with the observations of periods up to it (a quarter from its last month on),
 * as they stand now, starting from the alerts the previous month left active. The month before `from`
 * is evaluated first, silently, so an alert already under way is reported in `initial` rather than as
 * firing in `from`. Deterministic: each month is judged at its end in `timeZone`, never at the clock.
 *
 * Missing-filing rules are listed in `skipped` (see {@link MISSING_FILING_SKIPPED}), and so are
 * peer-outlier and region-aggregate rules when `subset` is set. Otherwise those judge each month against
 * all of `institutions`: peers are the others, region totals are aggregated from the month's visible
 * observations (`aggregateRegions`).
 * @throws when `from` or `to` is not a month or `from` comes after `to`.
 */
export function replay(input: ReplayInput): Replay {
  const first = monthOrdinal(input.from);
  const last = monthOrdinal(input.to);
  if (first > last) throw new Error(`${input.from} comes after ${input.to}`);
  const reasonSkipped = (r: Rule) =>
    r.kind === 'missing_filing'
      ? MISSING_FILING_SKIPPED
      : input.subset && (r.kind === 'peer_outlier' || r.kind === 'region_aggregate')
        ? POPULATION_SKIPPED
        : undefined;
  const rules = input.rules.filter((r) => reasonSkipped(r) === undefined);
  const skipped = input.rules.flatMap((r) => {
    const reason = reasonSkipped(r);
    return reason ? [{ ruleId: r.id, reason }] : [];
  });
  const needsTotals = rules.some((r) => r.kind === 'region_aggregate');

  // Observations in the order they become visible, so each month adds to the last one's set.
  const byVisibleMonth = input.observations
    .map((o) => ({ o, month: visibleFrom(o.period) }))
    .filter((v) => v.month <= last)
    .sort((a, b) => a.month - b.month);
  const visible: Observation[] = [];
  let next = 0;
  const evaluateMonth = (month: number, previous: readonly ActiveAlert[]) => {
    while (next < byVisibleMonth.length && (byVisibleMonth[next]?.month ?? Infinity) <= month) {
      visible.push((byVisibleMonth[next] as { o: Observation }).o);
      next++;
    }
    return evaluate({
      rules,
      catalog: input.catalog,
      institutions: input.institutions,
      observations: visible,
      // What was filed by then: every institution and period with a value visible (missing-data rules).
      filings: filingsFrom(visible),
      previous,
      timeZone: input.timeZone,
      // The institutions replayed are the population here: no one outside them to compare with.
      peers: { institutions: [], observations: [] },
      regionTotals: needsTotals ? aggregateRegions(rules, input.catalog, input.institutions, visible) : [],
      now: endOfMonth(month, input.timeZone),
    });
  };

  const initial = evaluateMonth(first - 1, []).active;
  let active: readonly ActiveAlert[] = initial;
  const steps: ReplayStep[] = [];
  for (let month = first; month <= last; month++) {
    const result = evaluateMonth(month, active);
    active = result.active;
    steps.push({
      period: formatPeriod(fromOrdinal(month)),
      transitions: result.transitions,
      errors: result.health.filter((h) => !h.ok).map((h) => ({ ruleId: h.ruleId, error: h.error ?? '' })),
    });
  }
  return { initial, steps, final: active, skipped };
}

/** Months from `from` to `to`, both counted; 0 when `to` comes first. @throws on a text that is not a month. */
export function monthsInRange(from: string, to: string): number {
  return Math.max(0, monthOrdinal(to) - monthOrdinal(from) + 1);
}

function monthOrdinal(text: string): number {
  const p = mustParsePeriod(text);
  if (p.frequency !== 'monthly') throw new Error(`${text} is not a month`);
  return p.year * 12 + p.index - 1;
}

/** The month from which a period's figures are in: its own, or a quarter's last month. */
function visibleFrom(period: string): number {
  const p = mustParsePeriod(period);
  return p.year * 12 + (p.frequency === 'monthly' ? p.index : p.index * 3) - 1;
}

function fromOrdinal(month: number): Period {
  return { year: Math.floor(month / 12), frequency: 'monthly', index: (month % 12) + 1 };
}

/** The first instant after a month in the zone: when its figures are complete. */
function endOfMonth(month: number, timeZone: string): Date {
  const after = fromOrdinal(month + 1);
  return startOfZonedDay(`${formatPeriod(after)}-01`, timeZone);
}
