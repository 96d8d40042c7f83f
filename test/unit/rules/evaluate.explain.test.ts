import { describe, expect, it } from 'vitest';
import type { ActiveAlert, AlertExplanation } from '../../../src/alerts/alert.types.js';
import { EXPLAINED_PERIODS } from '../../../src/alerts/alert.types.js';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { type EvaluationInput, evaluate, type Observation } from '../../../src/rules/evaluate.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import type { MetricRule, Rule } from '../../../src/rules/rule.schema.js';
import {
  catalog,
  day,
  filingRule,
  filingsOf,
  nplRule,
  obs,
  quanzhou,
  regionRule,
  ruralBank,
} from './rules.fixture.js';

const B = ruralBank.code;
const month = (i: number) => `${2022 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
/** A series of one metric for the rural bank from 2022-01, submission ids 1, 2, … */
const series = (metric: string, values: readonly number[], from = 0): Observation[] =>
  values.map((v, i) => obs(B, metric, month(from + i), v, from + i + 1));

function run(rule: Rule, observations: readonly Observation[], over: Partial<EvaluationInput> = {}) {
  const result = evaluate({
    rules: [rule],
    catalog,
    institutions: [ruralBank],
    observations,
    filings: filingsOf(observations),
    previous: [],
    now: day(1),
    ...over,
  });
  expect(result.health.every((h) => h.ok)).toBe(true);
  return result;
}
const explanationOf = (rule: Rule, observations: readonly Observation[]) =>
  run(rule, observations).active[0]?.explanation as AlertExplanation;

/** One rule of a kind, loaded from its YAML body as a rule file has it. */
function load(body: string): MetricRule {
  const result = parseRuleFile(
    'x.rules.yaml',
    `groups:\n  - name: x\n    rules:\n      - id: x\n        types: [rural_commercial_bank]\n        source: 依据\n        reason: 理由\n${body}`,
    catalog,
  );
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.value[0] as MetricRule;
}
const summary = '        summary: { zh: "{{value}}", en: "{{value}}" }\n';

describe('alert explanations', () => {
  it('give a threshold alert its run, margin, levels, override and source, at most 24 periods', () => {
    const rule = nplRule({
      overrides: [
        {
          institutions: [B],
          from: '2022-06',
          levels: [{ severity: 'critical', threshold: 3 }],
          source: '监管意见书第7号',
        },
      ],
    });
    const e = explanationOf(
      rule,
      series(
        'npl_ratio',
        Array.from({ length: 30 }, (_, i) => 3.5 + i / 100),
      ),
    );
    expect(e).toMatchObject({
      rule: { id: 'npl', kind: 'threshold', source: '监管意见书第7号', reason: null },
      quantity: { metric: 'npl_ratio', name: 'value', unit: 'percent' },
      period: '2024-06',
      value: 3.79,
      op: '>',
      threshold: 3,
      margin: 0.79,
      levels: [{ severity: 'critical', threshold: 3 }],
      override: { source: '监管意见书第7号', institutions: [B], types: null, from: '2022-06', until: null },
      // January to May 2022 fell under the rule's own levels (warning above 4): the run starts in June.
      run: { first_period: '2022-06', periods: 25, for: 1, kept_since: null },
      periods_omitted: 1,
    });
    expect(e.periods).toHaveLength(EXPLAINED_PERIODS);
    expect(e.periods[0]).toEqual({ period: '2022-07', value: 3.56, judged: null, submission_id: 7 });
    expect(e.periods.at(-1)).toEqual({ period: '2024-06', value: 3.79, judged: null, submission_id: 30 });
  });

  it('show a negative margin while recovery or keep_firing_for holds the alert', () => {
    const held = explanationOf(nplRule({ recovery: 3.5 }), series('npl_ratio', [4.2, 3.8]));
    expect(held).toMatchObject({
      value: 3.8,
      threshold: 4,
      margin: -0.2,
      recovery: 3.5,
      run: { periods: 2 },
    });
    const kept = explanationOf(nplRule({ keep_firing_for: 2 }), series('npl_ratio', [5.5, 3.1]));
    expect(kept).toMatchObject({
      value: 3.1,
      threshold: 5,
      margin: -1.9,
      run: { first_period: '2022-01', periods: 1, kept_since: '2022-01' },
      periods: [
        { period: '2022-01', value: 5.5 },
        { period: '2022-02', value: 3.1 },
      ],
    });
  });

  it('give a change its reference period and value, and each period the change judged', () => {
    const rule = load(
      `        kind: change\n        metric: npl_ratio\n        compare: year_ago\n        unit: percent\n        op: ">"\n        levels: [{ severity: warning, threshold: 50 }]\n${summary}`,
    );
    const e = explanationOf(rule, [
      obs(B, 'npl_ratio', '2023-06', 2, 1),
      obs(B, 'npl_ratio', '2024-06', 3.2, 2),
    ]);
    expect(e).toMatchObject({
      rule: { kind: 'change', source: '依据', reason: '理由' },
      quantity: { name: 'relative_change', unit: 'percent_change' },
      value: 60,
      margin: 10,
      periods: [{ period: '2024-06', value: 3.2, judged: 60, submission_id: 2 }],
      detail: {
        kind: 'change',
        compare: 'year_ago',
        unit: 'percent',
        reference: { period: '2023-06', value: 2, submission_id: 1 },
      },
    });
  });

  it('give a trend its moves, a projection its window and slope, an expression its inputs', () => {
    const trend = load(
      `        kind: trend\n        metric: capital_adequacy_ratio\n        direction: decreasing\n        periods: 2\n        severity: warning\n${summary}`,
    );
    const car = ['2024-Q1', '2024-Q2', '2024-Q3', '2024-Q4'].map((p, i) =>
      obs(B, 'capital_adequacy_ratio', p, [14, 15, 14.5, 14][i] as number, i + 1),
    );
    expect(explanationOf(trend, car)).toMatchObject({
      quantity: { name: 'moves', unit: 'periods' },
      value: 2,
      op: '>=',
      threshold: 2,
      margin: 0,
      detail: {
        kind: 'trend',
        direction: 'decreasing',
        required: 2,
        moves: [
          { period: '2024-Q3', from: 15, to: 14.5 },
          { period: '2024-Q4', from: 14.5, to: 14 },
        ],
      },
    });
    const projection = load(
      `        kind: projection\n        metric: npl_ratio\n        op: ">"\n        limit: 5\n        fit: 3\n        horizon: 3\n        severity: warning\n${summary}`,
    );
    expect(explanationOf(projection, series('npl_ratio', [3, 3.4, 3.8, 4.2]))).toMatchObject({
      quantity: { name: 'projected_value', unit: 'percent' },
      value: 5.4,
      threshold: 5,
      margin: 0.4,
      periods: [{ period: '2022-04', value: 4.2, judged: 5.4, submission_id: 4 }],
      detail: {
        kind: 'projection',
        method: 'ols_slope_from_latest',
        fit: 3,
        horizon: 3,
        slope: 0.4,
        latest: 4.2,
        projected: 5.4,
        window: [
          { period: '2022-02', value: 3.4 },
          { period: '2022-03', value: 3.8 },
          { period: '2022-04', value: 4.2 },
        ],
      },
    });
    const expression = load(
      `        kind: expression\n        metric: npl_ratio\n        condition: "npl_ratio > 3.0 && provision_coverage_ratio < 150.0"\n        severity: warning\n${summary}`,
    );
    expect(
      explanationOf(expression, [
        obs(B, 'npl_ratio', '2024-01', 3.5, 1),
        obs(B, 'provision_coverage_ratio', '2024-01', 140, 1),
      ]),
    ).toMatchObject({
      quantity: { name: 'condition', unit: 'flag' },
      value: 1,
      periods: [{ period: '2024-01', value: 3.5, judged: 1, submission_id: 1 }],
      detail: {
        kind: 'expression',
        mode: 'condition',
        expression: 'npl_ratio > 3.0 && provision_coverage_ratio < 150.0',
        inputs: [
          { metric: 'npl_ratio', value: 3.5 },
          { metric: 'provision_coverage_ratio', value: 140 },
        ],
      },
    });
  });

  it('give missing data and missing filings what is missing, the due day and the days overdue', () => {
    const missing = load(
      `        kind: missing_data\n        metric: npl_ratio\n        severity: warning\n${summary}`,
    );
    expect(explanationOf(missing, [obs(B, 'liquidity_ratio', '2024-06', 40, 3)])).toMatchObject({
      quantity: { name: 'missing', unit: 'flag' },
      periods: [{ period: '2024-06', value: null, judged: 1, submission_id: 3 }],
      detail: { kind: 'missing_data', missing: 'npl_ratio' },
    });
    const bank = { ...ruralBank, establishedAt: new Date('2020-01-01T00:00:00Z') };
    const filing = {
      rules: [filingRule({ lookback: 1 })],
      institutions: [bank],
      filings: [],
      timeZone: 'Asia/Shanghai',
    };
    const due = run(filingRule(), [], { ...filing, now: quanzhou('2024-07-18 00:00') });
    expect(due.active[0]?.explanation).toEqual({
      rule: { id: 'monthly_filing', kind: 'missing_filing', source: '报送要求', reason: null },
      quantity: { metric: 'filing:monthly', name: 'days_overdue', unit: 'days' },
      period: '2024-06',
      value: 3,
      op: '>',
      threshold: 0,
      margin: 3,
      levels: [{ severity: 'warning', threshold: 0 }],
      recovery: null,
      override: null,
      run: { first_period: '2024-06', periods: 1, for: 1, kept_since: null },
      periods: [{ period: '2024-06', value: 3, judged: null, submission_id: null }],
      periods_omitted: 0,
      detail: {
        kind: 'missing_filing',
        frequency: 'monthly',
        due_date: '2024-07-15',
        days_overdue: 3,
        filed_submission_id: null,
      },
    });
    const filed = run(filingRule(), [], {
      ...filing,
      filings: [{ institution: B, period: '2024-06', submissionId: 9 }],
      previous: due.active,
      now: quanzhou('2024-07-19 00:00'),
    });
    expect(filed.transitions[0]?.alert.explanation).toMatchObject({
      value: 4,
      periods: [{ period: '2024-06', value: 4, submission_id: 9 }],
      detail: { days_overdue: 4, filed_submission_id: 9 },
    });
  });

  it('are plain JSON for every kind, and the same for the same data', () => {
    const alerts: ActiveAlert[] = [
      ...run(nplRule(), series('npl_ratio', [5.5])).active,
      ...run(regionRule(), [], {
        regionTotals: [
          {
            ruleId: 'npl_region',
            scope: 'county',
            code: '晋江市',
            period: '2024-01',
            numerator: 50,
            denominator: 1000,
            members: 3,
            submissionIds: [4, 5, 6],
          },
        ],
      }).active,
    ];
    for (const a of alerts) {
      expect(JSON.parse(JSON.stringify(a.explanation))).toEqual(a.explanation);
      expect(JSON.stringify(a.explanation)).not.toMatch(/NaN|Infinity|undefined/);
    }
    expect(alerts[1]?.explanation?.detail).toMatchObject({ submissions: { count: 3, ids: [4, 5, 6] } });
  });

  it('change with a resubmission of the same values without making a transition of it', () => {
    const first = run(nplRule(), series('npl_ratio', [4.5]));
    const again = run(nplRule(), [obs(B, 'npl_ratio', '2022-01', 4.5, 99)], {
      previous: first.active,
      now: day(2),
    });
    expect(again.transitions).toEqual([]);
    expect(again.active[0]?.explanation?.periods).toEqual([
      { period: '2022-01', value: 4.5, judged: null, submission_id: 99 },
    ]);
    // A region whose members change while its ratio stays put: explained anew, no transition.
    const totals = (n: number, d: number, members: number) => ({
      regionTotals: [
        {
          ruleId: 'npl_region',
          scope: 'county' as const,
          code: '晋江市',
          period: '2024-01',
          numerator: n,
          denominator: d,
          members,
        },
      ],
    });
    const region = run(regionRule(), [], totals(45, 1000, 3));
    const more = run(regionRule(), [], { ...totals(90, 2000, 4), previous: region.active, now: day(2) });
    expect(more.transitions).toEqual([]);
    expect(more.active[0]?.explanation?.detail).toMatchObject({ members: 4, numerator: { sum: 90 } });
  });
});
