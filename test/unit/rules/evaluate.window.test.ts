import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActiveAlert } from '../../../src/alerts/alert.types.js';
import {
  aggregateRegions,
  type EvaluationInput,
  evaluate,
  type Observation,
} from '../../../src/rules/evaluate.js';
import type { SeriesKindRule } from '../../../src/rules/rule.schema.js';
import { historyWindow } from '../../../src/rules/rule.window.js';
import {
  derivedRuleArb,
  extendedRuleArb,
  halfPoints,
  peerRuleArb,
  population,
  regionRuleArb,
  ruleArb,
} from './rule.arbitraries.js';
import { catalog, day, nplRule, obs, ruralBank, villageBank } from './rules.fixture.js';

const month = (m: number) => `2024-${String(m).padStart(2, '0')}`;

/** What one institution files for one month: a value, nothing (a gap), and maybe a value that arrives late. */
const filingArb = fc.record({
  value: fc.option(halfPoints, { freq: 4 }),
  /** Months after its own that a missing value arrives (0: never). */
  lateBy: fc.integer({ min: 0, max: 3 }),
  /** A corrected resubmission of the month, filed the same month. */
  correction: fc.option(halfPoints, { freq: 3 }),
});

const scenarioArb = fc.record({
  rule: fc.oneof(ruleArb, extendedRuleArb, derivedRuleArb),
  rural: fc.array(filingArb, { minLength: 12, maxLength: 12 }),
  village: fc.array(filingArb, { minLength: 12, maxLength: 12 }),
});

type Filing = { value: number | null; lateBy: number; correction: number | null };

/** The observations that arrive in each month (late ones included), with increasing submission ids. */
function arrivals(plan: { institution: string; filings: readonly Filing[] }[]): Map<number, Observation[]> {
  const byMonth = new Map<number, Observation[]>();
  let id = 0;
  const add = (m: number, o: Omit<Observation, 'submissionId'>) => {
    const list = byMonth.get(m) ?? [];
    list.push({ ...o, submissionId: ++id });
    byMonth.set(m, list);
  };
  for (let m = 1; m <= 12; m++) {
    for (const { institution, filings } of plan) {
      const f = filings[m - 1] as Filing;
      if (f.value !== null) {
        add(m, { institution, metric: 'npl_ratio', period: month(m), value: f.value });
        if (f.correction !== null)
          add(m, { institution, metric: 'npl_ratio', period: month(m), value: f.correction });
      } else if (f.lateBy > 0 && m + f.lateBy <= 12) {
        add(m + f.lateBy, { institution, metric: 'npl_ratio', period: month(m), value: (m % 7) + 0.5 });
      }
    }
  }
  return byMonth;
}

/** The current version of each (institution, period, metric): the last submission of it. */
function current3(seen: readonly Observation[]): Observation[] {
  const latest = new Map<string, Observation>();
  for (const o of seen) latest.set(`${o.institution}\u0000${o.period}\u0000${o.metric}`, o);
  return [...latest.values()];
}

/** The current version of each (institution, period): the last submission of it. */
function current(seen: readonly Observation[]): Observation[] {
  const latest = new Map<string, Observation>();
  for (const o of seen) latest.set(`${o.institution}\u0000${o.period}`, o);
  return [...latest.values()];
}

function input(rule: SeriesKindRule, observations: Observation[], previous: ActiveAlert[], n: number) {
  return {
    rules: [rule],
    catalog,
    institutions: [ruralBank, villageBank],
    observations,
    previous,
    now: day(n),
  } satisfies EvaluationInput;
}

describe('a windowed evaluation', () => {
  it('judges the latest period of every series exactly as the whole history does', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rule, rural, village }) => {
        const byMonth = arrivals([
          { institution: ruralBank.code, filings: rural },
          { institution: villageBank.code, filings: village },
        ]);
        const seen: Observation[] = [];
        // The alerts as the uploads left them, each upload evaluated over the whole history.
        let state: ActiveAlert[] = [];
        for (let m = 1; m <= 12; m++) {
          const late = (byMonth.get(m) ?? []).filter((o) => o.period !== month(m));
          const onTime = (byMonth.get(m) ?? []).filter((o) => o.period === month(m));
          for (const o of late) {
            seen.push(o);
            state = evaluate(input(rule, current(seen), state, m)).active;
          }
          // The month's filings arrive; the scheduled evaluation judges them from the alerts the
          // previous month left, once over the whole history and once over a window.
          seen.push(...onTime);
          const whole = evaluate(input(rule, current(seen), state, m));
          const periods = historyWindow([rule], catalog, { monthly: month(m) }).get('npl_ratio') ?? [];
          const recent = current(seen).filter((o) => periods.includes(o.period));
          const windowed = evaluate({
            ...input(rule, recent, state, m),
            window: { latest: { monthly: month(m) } },
          });
          expect(windowed.transitions).toEqual(whole.transitions);
          expect(windowed.active).toEqual(whole.active);
          expect(windowed.health).toEqual(whole.health);
          state = whole.active;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('judges peer-outlier and region rules as the whole history does when filings come in their month', () => {
    // Each bank's NPL ratio and components for months 1–8, a gap where null; a resubmission of the month
    // now and then. (Filings of old periods would move old peer groups and regional sums, which only an
    // evaluation of the whole history sees: the service judges these kinds in the latest period.)
    const monthArb = fc.record({
      npl: fc.option(halfPoints, { freq: 5 }),
      balance: fc.integer({ min: 0, max: 80 }),
      loans: fc.integer({ min: 1, max: 1000 }),
      resubmitted: fc.option(halfPoints, { freq: 4 }),
    });
    fc.assert(
      fc.property(
        fc.oneof(peerRuleArb, regionRuleArb),
        fc.array(fc.array(monthArb, { minLength: 8, maxLength: 8 }), { minLength: 6, maxLength: 6 }),
        (rule, banks) => {
          const seen: Observation[] = [];
          let id = 0;
          let state: ActiveAlert[] = [];
          for (let m = 1; m <= 8; m++) {
            banks.forEach((months, b) => {
              const f = months[m - 1];
              if (!f || f.npl === null) return;
              const code = (population[b] as { code: string }).code;
              for (const npl of f.resubmitted === null ? [f.npl] : [f.npl, f.resubmitted]) {
                id++;
                seen.push(
                  { institution: code, metric: 'npl_ratio', period: month(m), value: npl, submissionId: id },
                  {
                    institution: code,
                    metric: 'npl_balance',
                    period: month(m),
                    value: f.balance,
                    submissionId: id,
                  },
                  {
                    institution: code,
                    metric: 'total_loans',
                    period: month(m),
                    value: f.loans,
                    submissionId: id,
                  },
                );
              }
            });
            const now = current3(seen);
            const input = (observations: Observation[]) => ({
              rules: [rule],
              catalog,
              institutions: population,
              observations,
              peers: { institutions: [], observations: [] },
              regionTotals: aggregateRegions([rule], catalog, population, observations),
              previous: state,
              now: day(m),
            });
            const whole = evaluate(input(now));
            const window = historyWindow([rule], catalog, { monthly: month(m) });
            const recent = now.filter((o) => window.get(o.metric)?.includes(o.period));
            const windowed = evaluate({ ...input(recent), window: { latest: { monthly: month(m) } } });
            expect(windowed.transitions).toEqual(whole.transitions);
            expect(windowed.active).toEqual(whole.active);
            state = whole.active;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads only the periods its rules judge, and as far back as their derived values look', () => {
    const threshold = nplRule();
    expect(historyWindow([threshold], catalog, { monthly: '2024-06' })).toEqual(
      new Map([['npl_ratio', ['2024-06']]]),
    );
    // However long a rule's runs, it judges the latest period from the state its alert recorded.
    const kept = nplRule({ for: 3, keep_firing_for: 2 });
    expect(historyWindow([kept], catalog, { monthly: '2024-06' }).get('npl_ratio')).toEqual(['2024-06']);
    const yearAgo: SeriesKindRule = {
      ...nplRule({ id: 'yoy' }),
      kind: 'change',
      compare: 'year_ago',
      unit: 'points',
    };
    expect(historyWindow([yearAgo], catalog, { monthly: '2024-06' }).get('npl_ratio')?.[0]).toBe('2023-06');
    // Nothing of a frequency without a latest period is read.
    expect(historyWindow([threshold], catalog, { quarterly: '2024-Q2' }).size).toBe(0);
  });

  it('keeps the alerts of a frequency the window does not reach', () => {
    const rule = nplRule();
    const prev = evaluate(input(rule, [obs(ruralBank.code, 'npl_ratio', '2024-05', 6)], [], 1)).active;
    const result = evaluate({ ...input(rule, [], prev, 2), window: { latest: { quarterly: '2024-Q2' } } });
    expect(result.transitions).toEqual([]);
    expect(result.active).toEqual(prev);
  });
});
