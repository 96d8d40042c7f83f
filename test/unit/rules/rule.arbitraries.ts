import fc from 'fast-check';
import type { InstitutionRef, Observation } from '../../../src/rules/evaluate.js';
import {
  type ChangeRule,
  OPS,
  type ProjectionRule,
  type SeriesKindRule,
  sortLevels,
  type ThresholdRule,
  type TrendRule,
} from '../../../src/rules/rule.schema.js';
import { nplRule, obs, peerRule, regionRule, ruralBank } from './rules.fixture.js';

/** Random rules and series for the property tests of the evaluator (NPL ratio, 2024 months). */

// Half-point steps make values land exactly on thresholds often, where '>' and '>=' differ.
export const halfPoints = fc.integer({ min: 0, max: 20 }).map((n) => n / 2);

export const ruleArb: fc.Arbitrary<ThresholdRule> = fc
  .record({
    op: fc.constantFrom(...OPS),
    a: halfPoints,
    b: halfPoints,
    twoLevels: fc.boolean(),
    for: fc.integer({ min: 1, max: 4 }),
  })
  .filter(({ a, b, twoLevels }) => !twoLevels || a !== b)
  .map(({ op, a, b, twoLevels, for: forPeriods }) => {
    const up = op === '>' || op === '>=';
    const [low, high] = [Math.min(a, b), Math.max(a, b)];
    const levels = twoLevels
      ? [
          { severity: 'warning' as const, threshold: up ? low : high },
          { severity: 'critical' as const, threshold: up ? high : low },
        ]
      : [{ severity: 'critical' as const, threshold: a }];
    return nplRule({ op, levels, for: forPeriods });
  });

/**
 * A rule with hysteresis, keep_firing_for and an override for the rural bank from some month, all
 * drawn at random: determinism and idempotence must hold for them too.
 */
export const extendedRuleArb: fc.Arbitrary<ThresholdRule> = fc
  .record({
    rule: ruleArb,
    margin: fc.option(fc.integer({ min: 0, max: 4 }).map((n) => n / 2)),
    keep: fc.integer({ min: 0, max: 2 }),
    overrideFrom: fc.option(fc.integer({ min: 1, max: 12 })),
    shift: fc.integer({ min: -4, max: 4 }).map((n) => n / 2),
  })
  .map(({ rule, margin, keep, overrideFrom, shift }) => {
    const up = rule.op === '>' || rule.op === '>=';
    const recoveryOf = (levels: ThresholdRule['levels']) => {
      const lowest = sortLevels(levels)[0]?.threshold ?? 0;
      return margin === null ? undefined : up ? lowest - margin : lowest + margin;
    };
    const shifted = rule.levels.map((l) => ({ ...l, threshold: l.threshold + shift }));
    return nplRule({
      ...rule,
      recovery: recoveryOf(rule.levels),
      keep_firing_for: keep,
      overrides:
        overrideFrom === null
          ? []
          : [
              {
                institutions: [ruralBank.code],
                from: `2024-${String(overrideFrom).padStart(2, '0')}`,
                levels: shifted,
                recovery: recoveryOf(shifted),
                source: 'override',
              },
            ],
    });
  });

/** Change, trend and projection rules over the same NPL series, drawn at random. */
export const derivedRuleArb: fc.Arbitrary<SeriesKindRule> = fc.oneof(
  fc
    .record({
      rule: extendedRuleArb,
      compare: fc.constantFrom('previous', 'year_ago' as const),
      unit: fc.constantFrom('points', 'percent' as const),
    })
    .map(({ rule, compare, unit }): ChangeRule => ({ ...rule, kind: 'change', compare, unit })),
  fc
    .record({
      direction: fc.constantFrom('increasing', 'decreasing' as const),
      periods: fc.integer({ min: 2, max: 4 }),
      keep: fc.integer({ min: 0, max: 2 }),
    })
    .map(({ direction, periods, keep }): TrendRule => {
      const { id, metric, types, source, summary, group, file } = nplRule();
      return {
        id,
        kind: 'trend',
        metric,
        types,
        direction,
        periods,
        severity: 'warning',
        keep_firing_for: keep,
        source,
        summary,
        group,
        file,
      };
    }),
  fc
    .record({
      op: fc.constantFrom(...OPS),
      limit: halfPoints,
      fit: fc.integer({ min: 3, max: 5 }),
      horizon: fc.integer({ min: 1, max: 4 }),
      for: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ op, limit, fit, horizon, for: forPeriods }): ProjectionRule => {
      const { id, metric, types, source, summary, group, file } = nplRule();
      return {
        id,
        kind: 'projection',
        metric,
        types,
        op,
        limit,
        fit,
        horizon,
        severity: 'critical',
        for: forPeriods,
        keep_firing_for: 0,
        source,
        summary,
        group,
        file,
      };
    }),
);

/** A series for one institution: distinct months of 2024 (gaps included), each with a value. */
export const seriesArb = (institution: string) =>
  fc
    .uniqueArray(fc.record({ month: fc.integer({ min: 1, max: 12 }), value: halfPoints }), {
      selector: (o) => o.month,
      maxLength: 12,
    })
    .map((points) =>
      points.map((p, i) =>
        obs(institution, 'npl_ratio', `2024-${String(p.month).padStart(2, '0')}`, p.value, i + 1),
      ),
    );

/** Six rural commercial banks in two counties: a population for peer groups and regions. */
export const population: InstitutionRef[] = Array.from({ length: 6 }, (_, i) => ({
  code: `P${i}`,
  name: `银行${i}`,
  type: i < 5 ? 'rural_commercial_bank' : 'village_bank',
  county: i % 2 === 0 ? '晋江市' : '安溪县',
}));

/** Two ascending (or descending, for '<') thresholds from `values`, and an op. */
export const levelsArb = (values: fc.Arbitrary<number>) =>
  fc
    .record({
      op: fc.constantFrom(...OPS),
      a: values,
      b: values,
      twoLevels: fc.boolean(),
      margin: fc.option(values),
    })
    .filter(({ a, b, twoLevels }) => !twoLevels || a !== b)
    .map(({ op, a, b, twoLevels, margin }) => {
      const up = op === '>' || op === '>=';
      const [low, high] = [Math.min(a, b), Math.max(a, b)];
      const levels = twoLevels
        ? [
            { severity: 'warning' as const, threshold: up ? low : high },
            { severity: 'critical' as const, threshold: up ? high : low },
          ]
        : [{ severity: 'critical' as const, threshold: a }];
      const lowest = levels[0]?.threshold ?? 0;
      // A recovery level on the safe side of the lowest threshold, when drawn.
      const recovery = margin === null ? undefined : up ? Math.min(lowest, margin) : Math.max(lowest, margin);
      return { op, levels, recovery };
    });

export const peerRuleArb = fc
  .record({
    method: fc.constantFrom('robust_z', 'percentile' as const),
    z: levelsArb(fc.integer({ min: -8, max: 8 }).map((n) => n / 2)),
    pct: levelsArb(fc.integer({ min: 0, max: 10 }).map((n) => n * 10)),
    minPeers: fc.integer({ min: 3, max: 6 }),
    for: fc.integer({ min: 1, max: 3 }),
    keep: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ method, z, pct, minPeers, for: forPeriods, keep }) =>
    peerRule({
      method,
      ...(method === 'robust_z' ? z : pct),
      types: ['rural_commercial_bank', 'village_bank'],
      min_peers: minPeers,
      for: forPeriods,
      keep_firing_for: keep,
    }),
  );

export const regionRuleArb = fc
  .record({
    levels: levelsArb(fc.integer({ min: 0, max: 20 }).map((n) => n / 2)),
    by: fc.subarray(['county', 'type', 'city'] as const, { minLength: 1 }),
    minMembers: fc.integer({ min: 1, max: 4 }),
    for: fc.integer({ min: 1, max: 3 }),
    keep: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ levels, by, minMembers, for: forPeriods, keep }) =>
    regionRule({ ...levels, by: [...by], min_members: minMembers, for: forPeriods, keep_firing_for: keep }),
  );

/** Observations of every bank of the population, months 1–6 of 2024, some missing. */
export const populationArb = fc
  .array(
    fc.record({
      bank: fc.integer({ min: 0, max: 5 }),
      month: fc.integer({ min: 1, max: 6 }),
      npl: halfPoints,
      balance: fc.integer({ min: 0, max: 80 }),
      loans: fc.integer({ min: 0, max: 1000 }),
    }),
    { maxLength: 36 },
  )
  .map((rows) => {
    const seen = new Map<string, Observation[]>();
    rows.forEach((r, i) => {
      const code = `P${r.bank}`;
      const period = `2024-0${r.month}`;
      seen.set(`${code}/${period}`, [
        obs(code, 'npl_ratio', period, r.npl, i + 1),
        obs(code, 'npl_balance', period, r.balance, i + 1),
        obs(code, 'total_loans', period, r.loans, i + 1),
      ]);
    });
    return [...seen.values()].flat();
  });
