import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ActiveAlert } from '../../../src/alerts/alert.types.js';
import {
  aggregateRegions,
  evaluate,
  type InstitutionRef,
  type Observation,
} from '../../../src/rules/evaluate.js';
import {
  breaches,
  type MetricRule,
  type SeriesKindRule,
  sortLevels,
} from '../../../src/rules/rule.schema.js';
import {
  derivedRuleArb,
  extendedRuleArb,
  peerRuleArb,
  population,
  populationArb,
  regionRuleArb,
  ruleArb,
  seriesArb,
} from './rule.arbitraries.js';
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

// --- Peer-outlier and region-aggregate rules -----------------------------------------------------------

/** The whole population evaluated with empty peers and totals from the observations. */
const wholeInput = (
  rule: MetricRule,
  observations: readonly Observation[],
  previous: readonly ActiveAlert[],
) => ({
  rules: [rule],
  catalog,
  institutions: population,
  observations,
  peers: { institutions: [], observations: [] },
  regionTotals: aggregateRegions([rule], catalog, population, observations),
  previous,
  now: day(50),
});

describe('evaluate, for random peer groups and regions', () => {
  const kinds = fc.oneof(peerRuleArb, regionRuleArb);

  it('is idempotent: arrivals played one by one, then evaluated again, change nothing', () => {
    fc.assert(
      fc.property(kinds, populationArb, (rule, observations) => {
        let previous: ActiveAlert[] = [];
        // Filings arrive one institution-period at a time, each evaluated against the last result.
        for (let n = 3; n <= observations.length; n += 3)
          previous = evaluate(wholeInput(rule, observations.slice(0, n), previous)).active;
        const once = evaluate(wholeInput(rule, observations, previous));
        expect(once.health.every((h) => h.ok)).toBe(true);
        const twice = evaluate(wholeInput(rule, observations, once.active));
        expect(twice.transitions).toEqual([]);
        expect(twice.active).toEqual(once.active);
      }),
    );
  });

  it('does not depend on the order of observations or institutions', () => {
    fc.assert(
      fc.property(kinds, populationArb, (rule, observations) => {
        const forward = evaluate(wholeInput(rule, observations, []));
        const reversed = evaluate({
          ...wholeInput(rule, [...observations].reverse(), []),
          institutions: [...population].reverse(),
        });
        expect(reversed).toEqual(forward);
      }),
    );
  });

  it('judges one bank with the rest as peers (or its regions with totals of all) as when judging everyone', () => {
    fc.assert(
      fc.property(kinds, populationArb, fc.integer({ min: 0, max: 5 }), (rule, observations, k) => {
        const one = population[k] as InstitutionRef;
        const everyone = evaluate(wholeInput(rule, observations, []));
        const alone = evaluate({
          ...wholeInput(
            rule,
            observations.filter((o) => o.institution === one.code),
            [],
          ),
          institutions: [one],
          peers: { institutions: population, observations },
          regionTotals: aggregateRegions([rule], catalog, population, observations),
        });
        const regions = new Set(
          rule.kind === 'region_aggregate'
            ? rule.by.map((s) => `${s}:${s === 'county' ? one.county : s === 'type' ? one.type : '*'}`)
            : [],
        );
        const mine = (a: ActiveAlert) =>
          a.institution === one.code ||
          (a.region !== undefined && regions.has(`${a.region.scope}:${a.region.code}`));
        // Type regions hold only the rule's types: a village bank's is judged only if the rule covers it.
        expect(alone.active).toEqual(everyone.active.filter(mine));
      }),
    );
  });
});
