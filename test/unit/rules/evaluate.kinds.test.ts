import { describe, expect, it } from 'vitest';
import type { ActiveAlert } from '../../../src/alerts/alert.types.js';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { evaluate, type InstitutionRef } from '../../../src/rules/evaluate.js';
import { projectAhead } from '../../../src/rules/rule.derived.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import type {
  ChangeRule,
  ExpressionRule,
  MissingDataRule,
  ProjectionRule,
  SeriesKindRule,
  TrendRule,
} from '../../../src/rules/rule.schema.js';
import { catalog, day, obs, playTimeline, ruralBank, type TimelineRow } from './rules.fixture.js';

const summary = {
  zh: '{{institution_name}}{{metric_name}}{{period}}：{{value}}（当前{{current}}{{unit}}）',
  en: '{{institution_name}} {{metric_name}} {{period}}: {{value}} (now {{current}}{{unit}})',
};
const origin = { group: 'test', file: 'test.rules.yaml', source: '测试依据' };

const change = (over: Partial<ChangeRule> = {}): ChangeRule => ({
  id: 'npl_jump',
  kind: 'change',
  metric: 'npl_ratio',
  types: ['rural_commercial_bank'],
  compare: 'previous',
  unit: 'points',
  op: '>',
  levels: [
    { severity: 'warning', threshold: 1 },
    { severity: 'critical', threshold: 2 },
  ],
  recovery: undefined,
  for: 1,
  keep_firing_for: 0,
  overrides: [],
  summary,
  ...origin,
  ...over,
});

const trend = (over: Partial<TrendRule> = {}): TrendRule => ({
  id: 'car_decline',
  kind: 'trend',
  metric: 'capital_adequacy_ratio',
  types: ['rural_commercial_bank'],
  direction: 'decreasing',
  periods: 3,
  severity: 'warning',
  keep_firing_for: 0,
  summary,
  ...origin,
  ...over,
});

const projection = (over: Partial<ProjectionRule> = {}): ProjectionRule => ({
  id: 'npl_heading_for_limit',
  kind: 'projection',
  metric: 'npl_ratio',
  types: ['rural_commercial_bank'],
  op: '>',
  limit: 5,
  fit: 3,
  horizon: 3,
  severity: 'warning',
  for: 1,
  keep_firing_for: 0,
  summary,
  ...origin,
  ...over,
});

/** Evaluates one rule over a series for the rural bank; returns the active alert, if any. */
function alertFor(
  rule: SeriesKindRule,
  values: Record<string, number>,
  institution: InstitutionRef = ruralBank,
) {
  const observations = Object.entries(values).map(([period, value], i) =>
    obs(institution.code, rule.metric, period, value, i + 1),
  );
  const { active, health } = evaluate({
    rules: [rule],
    catalog,
    institutions: [institution],
    observations,
    previous: [],
    now: day(1),
  });
  expect(health).toEqual([{ ruleId: rule.id, ok: true }]);
  return active[0] as ActiveAlert | undefined;
}

describe('change rules', () => {
  it('judge the change from the previous period in points, with levels, and resolve when it stops', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 2.0, '-', '-', '-', '-'], // nothing to compare with yet
      ['2024-02', 2.5, '-', '-', '-', '-'], // +0.5
      ['2024-03', 3.7, 'firing', 'warning', 1, 'firing'], // +1.2
      ['2024-04', 6.0, 'firing', 'critical', 2, 'escalated'], // +2.3
      ['2024-05', 6.1, '-', '-', '-', 'resolved'], // +0.1: high, but no longer jumping (a threshold rule's business)
    ];
    expect(playTimeline(change(), ruralBank, rows)).toEqual(rows);
  });

  it('give the change as value, the metric as current, and treat a missing previous period as no data', () => {
    expect(alertFor(change(), { '2024-01': 2.0, '2024-02': 3.5 })).toMatchObject({
      value: 1.5,
      threshold: 1,
      period: '2024-02',
      summary: { en: `${ruralBank.name} NPL ratio 2024-02: 1.5 (now 3.5%)` },
    });
    // Binary arithmetic makes 4.4 − 3.4 a hair above 1: the change is exactly 1, not above it.
    expect(alertFor(change(), { '2024-01': 3.4, '2024-02': 4.4 })).toBeUndefined();
    // January to March with February missing: no change can be computed for March.
    expect(alertFor(change(), { '2024-01': 2.0, '2024-03': 6.0 })).toBeUndefined();
  });

  it('compare with the same period a year earlier, in percent', () => {
    const yearAgo = change({
      compare: 'year_ago',
      unit: 'percent',
      levels: [{ severity: 'warning', threshold: 50 }],
    });
    const fired = alertFor(yearAgo, { '2023-06': 2.0, '2024-05': 9.9, '2024-06': 3.2 });
    expect(fired).toMatchObject({ period: '2024-06', threshold: 50 });
    expect(fired?.value).toBeCloseTo(60);
    expect(alertFor(yearAgo, { '2023-06': 2.0, '2024-06': 2.9 })).toBeUndefined(); // +45 %
    // A change in percent of zero is undefined: no data, no alert.
    expect(alertFor(yearAgo, { '2023-06': 0, '2024-06': 2.9 })).toBeUndefined();
  });
});

describe('trend rules', () => {
  it('fire after N consecutive declines whatever the level, and resolve at the first rise', () => {
    const rows: TimelineRow[] = [
      ['2023-Q3', 16.0, '-', '-', '-', '-'],
      ['2023-Q4', 15.5, '-', '-', '-', '-'], // 1 decline
      ['2024-Q1', 15.1, '-', '-', '-', '-'], // 2
      ['2024-Q2', 14.8, 'firing', 'warning', 1, 'firing'], // 3: still far above the 10.5 % minimum
      ['2024-Q3', 14.0, 'firing', 'warning', 2, 'updated'], // 4
      ['2024-Q4', 14.2, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(trend(), ruralBank, rows)).toEqual(rows);
  });

  it('count again after a missing period, and count rises for an increasing direction', () => {
    expect(alertFor(trend(), { '2023-Q3': 16, '2023-Q4': 15, '2024-Q2': 14, '2024-Q3': 13 })).toBeUndefined();
    const rising = trend({ metric: 'npl_ratio', direction: 'increasing', periods: 2 });
    expect(alertFor(rising, { '2024-01': 1.0, '2024-02': 1.1, '2024-03': 1.3 })).toMatchObject({
      value: 2,
      threshold: 2,
      summary: { en: `${ruralBank.name} NPL ratio 2024-03: 2 (now 1.3%)` },
    });
  });
});

describe('projection rules', () => {
  it('extend the least-squares line', () => {
    expect(projectAhead([1, 2, 3], 1)).toBeCloseTo(4);
    expect(projectAhead([3.4, 3.8, 4.2], 3)).toBeCloseTo(5.4);
    expect(projectAhead([5, 5, 5], 6)).toBeCloseTo(5);
    // Slope 0.5, from the latest value 2, not from the fitted line (which would give 3.5).
    expect(projectAhead([1, 3, 2], 2)).toBeCloseTo(3);
    // A sharp recovery: the six-month slope is still up, but from 3.0 it reaches 3.8, not past 5.
    expect(projectAhead([3.1, 3.4, 4.4, 5.2, 5.1, 3], 3)).toBeLessThan(4);
  });

  it('fire when the line crosses the limit within the horizon, and resolve when it flattens', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.0, '-', '-', '-', '-'],
      ['2024-02', 3.4, '-', '-', '-', '-'],
      ['2024-03', 3.8, '-', '-', '-', '-'], // projected 5.0 in June: not above 5
      ['2024-04', 4.2, 'firing', 'warning', 1, 'firing'], // projected 5.4 in July
      ['2024-05', 4.2, '-', '-', '-', 'resolved'], // 3.8, 4.2, 4.2: projected 4.87
    ];
    expect(playTimeline(projection(), ruralBank, rows)).toEqual(rows);
    expect(alertFor(projection(), { '2024-02': 3.4, '2024-03': 3.8, '2024-04': 4.2 })).toMatchObject({
      value: 5.4,
      threshold: 5,
      summary: { en: `${ruralBank.name} NPL ratio 2024-04: 5.4 (now 4.2%)` },
    });
  });

  it('need fit consecutive periods', () => {
    expect(alertFor(projection(), { '2024-01': 3.4, '2024-03': 3.8, '2024-04': 4.6 })).toBeUndefined();
  });
});

describe('expression rules', () => {
  /** Loads one expression rule through the rule loader, as a rule file would have it. */
  const expressionRule = (body: string) => {
    const result = parseRuleFile(
      'e.rules.yaml',
      `groups:\n  - name: e\n    rules:\n      - id: e\n        kind: expression\n        metric: npl_ratio\n        types: [rural_commercial_bank]\n        source: x\n        summary: { zh: "{{value}} {{current}}", en: "{{value}} {{current}}" }\n${body}`,
      catalog,
    );
    if (!result.ok) return formatProblems(result.problems).split('\n');
    return result.value[0] as ExpressionRule;
  };
  const observe = (values: Record<string, Record<string, number>>) =>
    Object.entries(values).flatMap(([period, byMetric], i) =>
      Object.entries(byMetric).map(([metric, value]) => obs(ruralBank.code, metric, period, value, i + 1)),
    );
  const judge = (rule: ExpressionRule, values: Record<string, Record<string, number>>) => {
    const { active, health } = evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank],
      observations: observe(values),
      previous: [],
      now: day(1),
    });
    expect(health).toEqual([{ ruleId: 'e', ok: true }]);
    return active[0];
  };

  it('fire a condition over several metrics of one period, reading only the periods that have them all', () => {
    const rule = expressionRule(
      '        condition: "npl_ratio > 3.0 && provision_coverage_ratio < 150.0"\n        severity: warning\n        for: 2\n',
    );
    if (Array.isArray(rule)) throw new Error(rule.join('\n'));
    expect(rule.inputs).toEqual(['npl_ratio', 'provision_coverage_ratio']);
    const both = { npl_ratio: 3.5, provision_coverage_ratio: 140 };
    expect(judge(rule, { '2024-01': both })).toMatchObject({ state: 'pending', value: 1, periods: 1 });
    expect(judge(rule, { '2024-01': both, '2024-02': both })).toMatchObject({
      state: 'firing',
      severity: 'warning',
      summary: { en: '1 3.5' },
    });
    // February lacks the coverage ratio: a gap, so the run in March starts again.
    expect(judge(rule, { '2024-01': both, '2024-02': { npl_ratio: 3.5 }, '2024-03': both })).toMatchObject({
      state: 'pending',
      periods: 1,
      period: '2024-03',
    });
    expect(judge(rule, { '2024-01': { npl_ratio: 3.5, provision_coverage_ratio: 160 } })).toBeUndefined();
  });

  it('judge a value derived on the spot with levels, skipping a division by zero', () => {
    const rule = expressionRule(
      '        value: "loan_loss_reserves / npl_balance * 100.0"\n        op: "<"\n        levels: [{ severity: critical, threshold: 120 }, { severity: warning, threshold: 150 }]\n',
    );
    if (Array.isArray(rule)) throw new Error(rule.join('\n'));
    expect(
      judge(rule, { '2024-01': { loan_loss_reserves: 130, npl_balance: 100, npl_ratio: 2 } }),
    ).toMatchObject({
      severity: 'warning',
      value: 130,
      threshold: 150,
      summary: { en: '130 2' },
    });
    expect(judge(rule, { '2024-01': { loan_loss_reserves: 130, npl_balance: 0 } })).toBeUndefined();
  });

  it('refuse an expression that does not type-check, has the wrong type, or mixes frequencies and scopes', () => {
    expect(expressionRule('        condition: "npl_ratio > "\n        severity: warning\n')).toEqual([
      expect.stringMatching(/^e\.rules\.yaml:10: groups\[0\]\.rules\[0\]\.condition: /),
    ]);
    expect(expressionRule('        condition: "npl_ratio + 1.0"\n        severity: warning\n')).toEqual([
      'e.rules.yaml:10: groups[0].rules[0].condition: must be a bool, not double',
    ]);
    expect(
      expressionRule(
        '        value: "npl_ratio > capital_adequacy_ratio"\n        op: ">"\n        levels: [{ severity: warning, threshold: 1 }]\n',
      ),
    ).toEqual([
      'e.rules.yaml:10: groups[0].rules[0].value: must be a double, not bool',
      'e.rules.yaml:10: groups[0].rules[0].value: capital_adequacy_ratio is quarterly, npl_ratio is monthly: one period cannot hold both',
    ]);
    expect(expressionRule('        condition: "npl_ratio > 1.0"\n')).toEqual([
      'e.rules.yaml:4: groups[0].rules[0].severity: a condition needs a severity',
    ]);
    expect(
      expressionRule(
        '        condition: "npl_ratio > 1.0"\n        value: "npl_ratio"\n        severity: warning\n',
      ),
    ).toEqual(['e.rules.yaml:4: groups[0].rules[0]: an expression rule has either a condition or a value']);
  });
});

describe('missing-data rules', () => {
  const rule = (() => {
    const result = parseRuleFile(
      'm.rules.yaml',
      `groups:
  - name: m
    rules:
      - id: npl_missing
        kind: missing_data
        metric: npl_ratio
        types: [rural_commercial_bank]
        severity: warning
        source: 报送要求
        summary: { zh: "{{period}}缺{{metric_name}}", en: "{{metric_name}} missing from {{period}}" }`,
      catalog,
    );
    if (!result.ok) throw new Error(formatProblems(result.problems));
    return result.value[0] as MissingDataRule;
  })();
  // Each period with values is one filing (a current submission), as an upload stores it.
  const judge = (values: Record<string, Record<string, number>>, previous: ActiveAlert[] = []) =>
    evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank],
      observations: Object.entries(values).flatMap(([period, byMetric], i) =>
        Object.entries(byMetric).map(([metric, value]) => obs(ruralBank.code, metric, period, value, i + 1)),
      ),
      filings: Object.keys(values).map((period, i) => ({
        institution: ruralBank.code,
        period,
        submissionId: i + 1,
      })),
      previous,
      now: day(1),
    });

  it('reads its own metric and the filings, not every metric the type reports', () => {
    expect(rule.inputs).toEqual(['npl_ratio']);
    const unloaded = evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank],
      observations: [obs(ruralBank.code, 'liquidity_ratio', '2024-06', 40)],
      previous: [],
      now: day(1),
    });
    expect(unloaded.health).toEqual([
      { ruleId: 'npl_missing', ok: false, error: 'filings were not loaded for this evaluation' },
    ]);
  });

  it('judges monthly filings only: a quarter filed says nothing about a monthly metric', () => {
    const quarter = evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank],
      observations: [obs(ruralBank.code, 'capital_adequacy_ratio', '2024-Q2', 12)],
      filings: [{ institution: ruralBank.code, period: '2024-Q2', submissionId: 1 }],
      previous: [],
      now: day(1),
    });
    expect(quarter.active).toEqual([]);
    expect(quarter.health.every((h) => h.ok)).toBe(true);
  });

  it('fires for a filed period without the metric and resolves when a later filing has it', () => {
    const missing = judge({ '2024-05': { npl_ratio: 1.2 }, '2024-06': { liquidity_ratio: 40 } });
    expect(missing.active).toEqual([
      expect.objectContaining({
        state: 'firing',
        period: '2024-06',
        value: 1,
        summary: { zh: '2024-06缺不良贷款率', en: 'NPL ratio missing from 2024-06' },
      }),
    ]);
    const corrected = judge(
      { '2024-05': { npl_ratio: 1.2 }, '2024-06': { liquidity_ratio: 40 }, '2024-07': { npl_ratio: 1.3 } },
      missing.active,
    );
    expect(corrected.active).toEqual([]);
    expect(corrected.transitions).toEqual([expect.objectContaining({ kind: 'resolved' })]);
    // An institution that filed nothing at all is the business of missing-filing rules.
    expect(judge({}).active).toEqual([]);
  });
});

describe('rule files of the new kinds', () => {
  const load = (rule: string) => {
    const result = parseRuleFile('k.rules.yaml', `groups:\n  - name: k\n    rules:\n${rule}`, catalog);
    return result.ok ? result.value : formatProblems(result.problems).split('\n');
  };

  it('load with their defaults', () => {
    expect(
      load(`      - id: npl_jump
        kind: change
        metric: npl_ratio
        types: [rural_commercial_bank]
        op: ">"
        levels: [{ severity: warning, threshold: 1 }]
        source: x
        summary: { zh: "{{value}} {{current}}", en: "{{value}}" }
      - id: car_decline
        kind: trend
        metric: capital_adequacy_ratio
        types: [rural_commercial_bank]
        direction: decreasing
        periods: 3
        severity: warning
        source: x
        summary: { zh: "{{value}}", en: "{{current}}" }
      - id: npl_projection
        kind: projection
        metric: npl_ratio
        types: [rural_commercial_bank]
        op: ">"
        limit: 5
        fit: 6
        horizon: 3
        severity: warning
        source: x
        summary: { zh: "{{value}}", en: "{{value}}" }`),
    ).toMatchObject([
      { kind: 'change', compare: 'previous', unit: 'points', for: 1, keep_firing_for: 0 },
      { kind: 'trend', keep_firing_for: 0 },
      { kind: 'projection', for: 1 },
    ]);
  });

  it('refuse what does not make sense, each with its path', () => {
    expect(
      load(`      - id: a
        kind: change
        metric: npl_ratio
        types: [rural_commercial_bank]
        compare: quarter_ago
        op: ">"
        levels: [{ severity: warning, threshold: 1 }]
        source: x
        summary: { zh: "{{value}}", en: "{{value}}" }
      - id: b
        kind: trend
        metric: npl_ratio
        types: [rural_commercial_bank]
        direction: up
        periods: 1
        severity: warning
        source: x
        summary: { zh: "{{value}}", en: "{{value}}" }
      - id: c
        kind: projection
        metric: npl_ratio
        types: [rural_commercial_bank]
        op: ">"
        limit: 5
        fit: 2
        horizon: 3
        severity: warning
        source: x
        summary: { zh: "{{value}}", en: "{{value}}" }
      - id: d
        metric: npl_ratio
        types: [rural_commercial_bank]
        op: ">"
        levels: [{ severity: warning, threshold: 1 }]
        source: x
        summary: { zh: "{{current}}", en: "{{value}}" }`),
    ).toEqual([
      'k.rules.yaml:8: groups[0].rules[0].compare: Invalid option: expected one of "previous"|"year_ago"',
      'k.rules.yaml:17: groups[0].rules[1].direction: Invalid option: expected one of "increasing"|"decreasing"',
      'k.rules.yaml:18: groups[0].rules[1].periods: Too small: expected number to be >=2',
      'k.rules.yaml:28: groups[0].rules[2].fit: Too small: expected number to be >=3',
      'k.rules.yaml:39: groups[0].rules[3].summary.zh: unknown placeholder {{current}}; known: institution, institution_name, metric, metric_name, value, threshold, unit, period, first_period, periods, severity, severity_zh',
    ]);
  });
});
