import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActiveAlert } from '../../../src/alerts/alert.types.js';
import { evaluate, type Observation } from '../../../src/rules/evaluate.js';
import { breaches, type SeriesKindRule, sortLevels } from '../../../src/rules/rule.schema.js';
import { derivedRuleArb, extendedRuleArb, ruleArb, seriesArb } from './rule.arbitraries.js';
import { catalog, day, ruralBank, villageBank } from './rules.fixture.js';

/** Observations arriving in any order, one at a time, each arrival evaluated against the last result. */
const scenarioArb = fc
  .tuple(
    fc.oneof(ruleArb, extendedRuleArb, derivedRuleArb),
    seriesArb(ruralBank.code),
    seriesArb(villageBank.code),
  )
  .chain(([rule, a, b]) =>
    fc
      .shuffledSubarray([...a, ...b], { minLength: a.length + b.length })
      .map((arrivals) => ({ rule, arrivals })),
  );

function replay(
  rule: SeriesKindRule,
  arrivals: readonly Observation[],
): { previous: ActiveAlert[]; seen: Observation[] } {
  let previous: ActiveAlert[] = [];
  const seen: Observation[] = [];
  arrivals.forEach((o, i) => {
    seen.push(o);
    previous = evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank, villageBank],
      observations: seen,
      previous,
      now: day(i + 1),
    }).active;
  });
  return { previous, seen };
}

describe('evaluate, for random series', () => {
  it('is idempotent: evaluating the same data again changes nothing', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rule, arrivals }) => {
        const { previous, seen } = replay(rule, arrivals);
        const input = {
          rules: [rule],
          catalog,
          institutions: [ruralBank, villageBank],
          observations: seen,
          now: day(100),
        };
        const once = evaluate({ ...input, previous });
        const twice = evaluate({ ...input, previous: once.active });
        expect(twice.transitions).toEqual([]);
        expect(twice.active).toEqual(once.active);
        expect(once.active).toEqual(previous);
      }),
    );
  });

  it('does not depend on the order of the observations', () => {
    fc.assert(
      fc.property(scenarioArb, ({ rule, arrivals }) => {
        const input = {
          rules: [rule],
          catalog,
          institutions: [ruralBank, villageBank],
          previous: [],
          now: day(1),
        };
        const sorted = [...arrivals].sort((x, y) =>
          x.institution + x.period < y.institution + y.period ? -1 : 1,
        );
        expect(evaluate({ ...input, observations: arrivals })).toEqual(
          evaluate({ ...input, observations: sorted }),
        );
      }),
    );
  });

  it('holds an alert exactly when the latest period breaches, firing once the run reaches for', () => {
    fc.assert(
      fc.property(ruleArb, seriesArb(ruralBank.code), (rule, series) => {
        const { active } = evaluate({
          rules: [rule],
          catalog,
          institutions: [ruralBank],
          observations: series,
          previous: [],
          now: day(1),
        });
        const latest = [...series].sort((x, y) => (x.period < y.period ? -1 : 1)).at(-1);
        const lowest = sortLevels(rule.levels)[0];
        const breached =
          latest !== undefined && lowest !== undefined && breaches(rule.op, latest.value, lowest.threshold);
        const alert = active[0];
        expect(alert !== undefined).toBe(breached);
        if (!alert) return;
        expect(alert.period).toBe(latest?.period);
        expect(alert.state === 'firing').toBe(alert.periods >= rule.for);
      }),
    );
  });
});
