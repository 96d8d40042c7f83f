import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import type { Observation } from '../../../src/rules/evaluate.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import type { MetricRule } from '../../../src/rules/rule.schema.js';
import { catalog, obs, playTimeline, ruralBank, type TimelineRow } from './rules.fixture.js';

// The acceptance asks every kind for flapping, hysteresis, late data for an old period and a corrected
// resubmission, as timeline tables (see evaluate.timeline.test.ts for threshold rules, evaluate.peer and
// evaluate.region for the peer and region kinds). Kinds without `recovery` (trend, projection, a
// condition, missing data) hold a firing alert with `keep_firing_for`, their only hysteresis. A row for a
// period already given is a resubmission replacing it; one for an earlier period, data filed late.

/** Loads one rule of the rural bank's type from its YAML body. */
function load(body: string): MetricRule {
  const result = parseRuleFile(
    'k.rules.yaml',
    `groups:\n  - name: k\n    rules:\n      - id: k\n        types: [rural_commercial_bank]\n        source: x\n        summary: { zh: "{{value}}", en: "{{value}}" }\n${body}`,
    catalog,
  );
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result.value[0] as MetricRule;
}
const play = (
  rule: MetricRule,
  rows: TimelineRow[],
  arrive?: (p: string, v: number, id: number) => Observation[],
) => playTimeline(rule, ruralBank, rows, arrive ? { arrive } : {});

describe('change rules over a timeline', () => {
  const change = (extra = '') =>
    load(
      `        kind: change\n        metric: npl_ratio\n        op: ">"\n        levels: [{ severity: warning, threshold: 1 }, { severity: critical, threshold: 2 }]\n${extra}`,
    );

  it('flap on jumps that come and go, and hold by recovery on the change', () => {
    const flapping: TimelineRow[] = [
      ['2024-01', 2.0, '-', '-', '-', '-'],
      ['2024-02', 3.2, 'firing', 'warning', 1, 'firing'], // +1.2
      ['2024-03', 3.3, '-', '-', '-', 'resolved'], // +0.1
      ['2024-04', 4.5, 'firing', 'warning', 1, 'firing'],
      ['2024-05', 4.6, '-', '-', '-', 'resolved'],
    ];
    expect(play(change(), flapping)).toEqual(flapping);
    const held: TimelineRow[] = [
      ['2024-01', 2.0, '-', '-', '-', '-'],
      ['2024-02', 3.2, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 3.9, 'firing', 'warning', 2, 'updated'], // +0.7: above the recovery level 0.5
      ['2024-04', 4.0, '-', '-', '-', 'resolved'],
    ];
    expect(play(change('        recovery: 0.5\n'), held)).toEqual(held);
  });

  it('judge a change once a month filed late gives it a reference, and re-judge a correction', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 2.0, '-', '-', '-', '-'],
      ['2024-03', 3.5, '-', '-', '-', '-'], // no February: no change for March
      ['2024-02', 2.2, 'firing', 'warning', 1, 'firing'], // February late: March is +1.3
      ['2024-03', 2.9, '-', '-', '-', 'resolved'], // March corrected: +0.7
    ];
    expect(play(change(), rows)).toEqual(rows);
  });
});

describe('trend rules over a timeline', () => {
  const trend = (extra = '') =>
    load(
      `        kind: trend\n        metric: capital_adequacy_ratio\n        direction: decreasing\n        periods: 2\n        severity: warning\n${extra}`,
    );

  it('flap with the moves, and keep firing for keep_firing_for periods after a rise', () => {
    const flapping: TimelineRow[] = [
      ['2024-Q1', 16, '-', '-', '-', '-'],
      ['2024-Q2', 15.5, '-', '-', '-', '-'],
      ['2024-Q3', 15, 'firing', 'warning', 1, 'firing'],
      ['2024-Q4', 15.2, '-', '-', '-', 'resolved'],
      ['2025-Q1', 15, '-', '-', '-', '-'],
      ['2025-Q2', 14.8, 'firing', 'warning', 1, 'firing'],
    ];
    expect(play(trend(), flapping)).toEqual(flapping);
    const kept: TimelineRow[] = [
      ['2024-Q1', 16, '-', '-', '-', '-'],
      ['2024-Q2', 15.5, '-', '-', '-', '-'],
      ['2024-Q3', 15, 'firing', 'warning', 1, 'firing'],
      ['2024-Q4', 15.2, 'firing', 'warning', 1, 'updated'],
      ['2025-Q1', 15.3, '-', '-', '-', 'resolved'],
    ];
    expect(play(trend('        keep_firing_for: 1\n'), kept)).toEqual(kept);
  });

  it('count a quarter filed late among the moves, and re-judge a correction', () => {
    const rows: TimelineRow[] = [
      ['2024-Q1', 16, '-', '-', '-', '-'],
      ['2024-Q3', 15, '-', '-', '-', '-'], // no Q2: the count starts again
      ['2024-Q2', 15.5, 'firing', 'warning', 1, 'firing'], // Q2 late: two declines to Q3
      ['2024-Q3', 15.6, '-', '-', '-', 'resolved'], // Q3 corrected: a rise
    ];
    expect(play(trend(), rows)).toEqual(rows);
  });
});

describe('projection rules over a timeline', () => {
  const projection = (extra = '') =>
    load(
      `        kind: projection\n        metric: npl_ratio\n        op: ">"\n        limit: 5\n        fit: 3\n        horizon: 3\n        severity: warning\n${extra}`,
    );

  it('flap as the slope turns, and keep firing for keep_firing_for periods', () => {
    const flapping: TimelineRow[] = [
      ['2024-01', 3.0, '-', '-', '-', '-'],
      ['2024-02', 3.4, '-', '-', '-', '-'],
      ['2024-03', 3.8, '-', '-', '-', '-'], // projected 5.0: not above
      ['2024-04', 4.2, 'firing', 'warning', 1, 'firing'], // 5.4
      ['2024-05', 4.2, '-', '-', '-', 'resolved'], // 4.8
      ['2024-06', 4.6, 'firing', 'warning', 1, 'firing'], // 5.2
    ];
    expect(play(projection(), flapping)).toEqual(flapping);
    const kept: TimelineRow[] = [
      ...flapping.slice(0, 4),
      ['2024-05', 4.2, 'firing', 'warning', 1, 'updated'],
    ];
    kept.push(['2024-06', 4.2, '-', '-', '-', 'resolved']);
    expect(play(projection('        keep_firing_for: 1\n'), kept)).toEqual(kept);
  });

  it('fit a window completed by a month filed late, and re-judge a correction', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.0, '-', '-', '-', '-'],
      ['2024-03', 3.8, '-', '-', '-', '-'],
      ['2024-04', 4.2, '-', '-', '-', '-'], // February missing: no three consecutive months
      ['2024-02', 3.4, 'firing', 'warning', 1, 'firing'], // February late: 3.4 3.8 4.2 → 5.4
      ['2024-04', 3.9, '-', '-', '-', 'resolved'], // April corrected: 3.4 3.8 3.9 → 4.65
    ];
    expect(play(projection(), rows)).toEqual(rows);
  });
});

describe('expression rules over a timeline', () => {
  // A value: provision coverage computed from reserves over NPL balance (100), as the row gives it.
  const coverage = (extra = '') =>
    load(
      `        kind: expression\n        metric: provision_coverage_ratio\n        value: "loan_loss_reserves / npl_balance * 100.0"\n        op: "<"\n        levels: [{ severity: warning, threshold: 150 }, { severity: critical, threshold: 120 }]\n${extra}`,
    );
  const reserves = (period: string, v: number, id: number) => [
    obs(ruralBank.code, 'loan_loss_reserves', period, v, id),
    obs(ruralBank.code, 'npl_balance', period, 100, id),
  ];
  // A condition: NPL ratio above 3% with coverage below 150% (140 in every row).
  const condition = (extra = '') =>
    load(
      `        kind: expression\n        metric: npl_ratio\n        condition: "npl_ratio > 3.0 && provision_coverage_ratio < 150.0"\n        severity: warning\n${extra}`,
    );
  const npl = (period: string, v: number, id: number) => [
    obs(ruralBank.code, 'npl_ratio', period, v, id),
    obs(ruralBank.code, 'provision_coverage_ratio', period, 140, id),
  ];

  it('flap without hysteresis, and hold a value by recovery or a condition by keep_firing_for', () => {
    const flapping: TimelineRow[] = [
      ['2024-01', 160, '-', '-', '-', '-'],
      ['2024-02', 145, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 152, '-', '-', '-', 'resolved'],
      ['2024-04', 148, 'firing', 'warning', 1, 'firing'],
    ];
    expect(play(coverage(), flapping, reserves)).toEqual(flapping);
    const held: TimelineRow[] = [
      ['2024-01', 145, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 152, 'firing', 'warning', 2, 'updated'], // below the recovery level 155
      ['2024-03', 118, 'firing', 'critical', 3, 'escalated'],
      ['2024-04', 156, '-', '-', '-', 'resolved'],
    ];
    expect(play(coverage('        recovery: 155\n'), held, reserves)).toEqual(held);
    const kept: TimelineRow[] = [
      ['2024-01', 3.5, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 2.5, 'firing', 'warning', 1, 'updated'],
      ['2024-03', 2.5, '-', '-', '-', 'resolved'],
      ['2024-04', 3.5, 'firing', 'warning', 1, 'firing'],
    ];
    expect(play(condition('        keep_firing_for: 1\n'), kept, npl)).toEqual(kept);
  });

  it('count a month filed late into the run, and re-judge a correction', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.5, 'pending', 'warning', 1, 'pending'],
      ['2024-03', 3.5, 'pending', 'warning', 1, 'updated'],
      ['2024-02', 3.5, 'firing', 'warning', 3, 'firing'],
      ['2024-02', 2.5, 'pending', 'warning', 1, 'pending'],
    ];
    expect(play(condition('        for: 2\n'), rows, npl)).toEqual(rows);
    const values: TimelineRow[] = [
      ['2024-01', 145, 'pending', 'warning', 1, 'pending'],
      ['2024-03', 145, 'pending', 'warning', 1, 'updated'],
      ['2024-02', 145, 'firing', 'warning', 3, 'firing'],
      ['2024-02', 160, 'pending', 'warning', 1, 'pending'],
    ];
    expect(play(coverage('        for: 2\n'), values, reserves)).toEqual(values);
  });
});

describe('missing-data rules over a timeline', () => {
  const missing = (extra = '') =>
    load(`        kind: missing_data\n        metric: npl_ratio\n        severity: warning\n${extra}`);
  // A row's 1 is a filing without the NPL ratio (liquidity only); 0 a complete one.
  const filing = (period: string, v: number, id: number) => [
    obs(ruralBank.code, 'liquidity_ratio', period, 40, id),
    ...(v === 0 ? [obs(ruralBank.code, 'npl_ratio', period, 1.5, id)] : []),
  ];

  it('flap with incomplete filings, and keep firing for keep_firing_for periods', () => {
    const flapping: TimelineRow[] = [
      ['2024-01', 0, '-', '-', '-', '-'],
      ['2024-02', 1, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 0, '-', '-', '-', 'resolved'],
      ['2024-04', 1, 'firing', 'warning', 1, 'firing'],
    ];
    expect(play(missing(), flapping, filing)).toEqual(flapping);
    const kept: TimelineRow[] = [
      ['2024-02', 1, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 0, 'firing', 'warning', 1, 'updated'],
      ['2024-04', 0, '-', '-', '-', 'resolved'],
    ];
    expect(play(missing('        keep_firing_for: 1\n'), kept, filing)).toEqual(kept);
  });

  it('count a month filed late into the run, and resolve it by a corrected resubmission', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 1, 'pending', 'warning', 1, 'pending'],
      ['2024-03', 1, 'pending', 'warning', 1, 'updated'],
      ['2024-02', 1, 'firing', 'warning', 3, 'firing'],
      ['2024-02', 0, 'pending', 'warning', 1, 'pending'], // February resubmitted with the NPL ratio
      ['2024-03', 0, '-', '-', '-', 'resolved'],
    ];
    expect(play(missing('        for: 2\n'), rows, filing)).toEqual(rows);
  });
});
