import fc from 'fast-check';
import {
  type ChangeRule,
  OPS,
  type ProjectionRule,
  type SeriesKindRule,
  sortLevels,
  type ThresholdRule,
  type TrendRule,
} from '../../../src/rules/rule.schema.js';
import { nplRule, obs, ruralBank } from './rules.fixture.js';

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
