import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { loadRuleTestFile } from '../../../src/rules/rule-test.loader.js';
import { formatSuiteResult } from '../../../src/rules/rule-test.report.js';
import { runRuleTest, runRuleTestSuite } from '../../../src/rules/rule-test.runner.js';
import { buildTimeline } from '../../../src/rules/rule-test.timeline.js';
import type { RuleTest, RuleTestSuite } from '../../../src/rules/rule-test.types.js';
import { catalog, FIXTURES_DIR, nplRule } from './rules.fixture.js';

/** A fixture suite, loaded under its bare name so the report does not depend on where the checkout lives. */
function suiteOf(name: string): RuleTestSuite {
  const cwd = process.cwd();
  process.chdir(path.join(FIXTURES_DIR, 'rule-tests'));
  try {
    const loaded = loadRuleTestFile(name);
    if (!loaded.ok) throw new Error(formatProblems(loaded.problems));
    return loaded.value;
  } finally {
    process.chdir(cwd);
  }
}

const bank = { code: 'QZ-RCB-01', name: '晋江农商银行', type: 'rural_commercial_bank', county: '晋江市' };

/** A test of one bank with NPL ratios arriving for consecutive months from 2024-01, checked at `at`. */
function nplTest(values: number[], at: string, extra: Partial<RuleTest> = {}): RuleTest {
  return {
    name: 'npl',
    where: 'inline',
    institutions: [bank],
    arrivals: values.map((value, i) => {
      const period = `2024-${String(i + 1).padStart(2, '0')}`;
      return { at: { kind: 'period', period }, institution: bank.code, period, metric: 'npl_ratio', value };
    }),
    checks: [{ at: { kind: 'period', period: at }, where: 'inline', alerts: [] }],
    ...extra,
  };
}

describe(runRuleTestSuite.name, () => {
  it('passes a file whose expectations hold at every step: pending, firing, resolved, flapping, late data', () => {
    const result = runRuleTestSuite(suiteOf('for-three.good.yaml'));
    expect(result.tests.map((t) => [t.name, t.ok, t.failures])).toEqual([
      ['pending for two months, firing from the third, resolving, then flapping back to pending', true, []],
      ['a month filed late completes the run it had cut', true, []],
    ]);
    expect(formatSuiteResult(result)).toBe('for-three.good.yaml: 2 tests passed');
  });

  it('reports a failing test step by step: - expected, + got, agreeing alerts as context', () => {
    const result = runRuleTestSuite(suiteOf('fails.good.yaml'));
    expect(result.ok).toBe(false);
    expect(result.tests.map((t) => t.ok)).toEqual([true, false]);
    expect(formatSuiteResult(result).split('\n')).toEqual([
      'fails.good.yaml: 1 of 2 tests failed',
      'FAIL fails.good.yaml:17:5: expects the wrong state, a missing alert and no filing alerts',
      '  at 2024-02 (evaluated 2024-03-16 00:00 Asia/Shanghai), check at fails.good.yaml:21:9:',
      '    exp_alerts (- expected, + got):',
      '      - { rule: npl_three_levels, institution: QZ-VB-01, state: firing, severity: warning, value: 4.5 }',
      '      + { rule: npl_three_levels, institution: QZ-VB-01, state: pending, severity: warning, value: 4.5 }',
      '      - { rule: npl_three_levels, institution: QZ-VB-02, state: pending, severity: info }',
      '  at 2024-03 (evaluated 2024-04-16 00:00 Asia/Shanghai), check at fails.good.yaml:25:9:',
      '    exp_transitions (- expected, + got):',
      '      - { kind: escalated, rule: npl_three_levels, institution: QZ-VB-01 }',
      '      + { kind: firing, rule: npl_three_levels, institution: QZ-VB-01 }',
      '  at 2024-Q1 (evaluated 2024-05-01 00:00 Asia/Shanghai), check at fails.good.yaml:31:9:',
      '    exp_alerts (- expected, + got):',
      '      + { rule: village_bank_filing, institution: QZ-VB-02, period: 2024-Q1, state: firing, severity: warning, value: 1 }',
    ]);
  });

  it('shows agreeing alerts as context beside a difference, sorted by fingerprint', () => {
    const suite: RuleTestSuite = {
      file: 'inline',
      rules: [nplRule()],
      catalog,
      timeZone: 'Asia/Shanghai',
      tests: [],
    };
    const test = nplTest([6.2], '2024-01', {
      institutions: [bank, { ...bank, code: 'QZ-RCB-00' }],
      arrivals: [
        {
          at: { kind: 'period', period: '2024-01' },
          institution: 'QZ-RCB-01',
          period: '2024-01',
          metric: 'npl_ratio',
          value: 6.2,
        },
        {
          at: { kind: 'period', period: '2024-01' },
          institution: 'QZ-RCB-00',
          period: '2024-01',
          metric: 'npl_ratio',
          value: 4.5,
        },
      ],
    });
    const check = {
      at: { kind: 'period', period: '2024-01' },
      where: 'inline',
      alerts: [
        {
          fingerprint: 'npl/QZ-RCB-01/npl_ratio',
          rule: 'npl',
          institution: 'QZ-RCB-01',
          state: 'firing',
          severity: 'critical',
          value: 6.2,
        },
        {
          fingerprint: 'npl/QZ-RCB-00/npl_ratio',
          rule: 'npl',
          institution: 'QZ-RCB-00',
          state: 'firing',
          severity: 'critical',
        },
      ],
    } as const;
    const result = runRuleTest(suite, { ...test, checks: [check] });
    expect(result.failures[0]?.alerts).toEqual([
      { sign: '-', text: '{ rule: npl, institution: QZ-RCB-00, state: firing, severity: critical }' },
      { sign: '+', text: '{ rule: npl, institution: QZ-RCB-00, state: firing, severity: warning }' },
      {
        sign: ' ',
        text: '{ rule: npl, institution: QZ-RCB-01, state: firing, severity: critical, value: 6.2 }',
      },
    ]);
  });

  it('fails a test at every step where a rule cannot be evaluated, checked or not', () => {
    const broken = nplRule({ metric: 'no_such_metric' });
    const suite: RuleTestSuite = {
      file: 'inline',
      rules: [broken],
      catalog,
      timeZone: 'Asia/Shanghai',
      tests: [],
    };
    const result = runRuleTest(suite, nplTest([3, 4.5], '2024-02'));
    expect(result.ok).toBe(false);
    expect(result.failures.map((f) => [f.at, f.where, f.errors])).toEqual([
      ['2024-01', undefined, ['rule npl: metric no_such_metric is not in the catalog']],
      ['2024-02', 'inline', ['rule npl: metric no_such_metric is not in the catalog']],
    ]);
  });

  it('evaluates each step with the previous step’s alerts, so an unchanged step moves nothing', () => {
    const suite: RuleTestSuite = {
      file: 'inline',
      rules: [nplRule()],
      catalog,
      timeZone: 'Asia/Shanghai',
      tests: [],
    };
    const test = nplTest([6.2], '2024-03', {
      checks: [
        {
          at: { kind: 'period', period: '2024-03' },
          where: 'inline',
          alerts: [
            {
              fingerprint: 'npl/QZ-RCB-01/npl_ratio',
              rule: 'npl',
              institution: bank.code,
              state: 'firing',
              severity: 'critical',
              period: '2024-01',
            },
          ],
          transitions: [],
        },
      ],
    });
    expect(runRuleTest(suite, test)).toMatchObject({ ok: true, steps: 3 });
  });
});

describe(buildTimeline.name, () => {
  it('steps through every deadline of the institutions’ frequencies in time order, with named days between', () => {
    const test = nplTest([3, 3, 3, 3], '2024-04-22', {
      checks: [
        { at: { kind: 'day', day: '2024-04-22' }, where: 'a', alerts: [] },
        // A day falling on a deadline is that period's step.
        { at: { kind: 'day', day: '2024-02-16' }, where: 'b', alerts: [] },
      ],
    });
    const { steps, startDay } = buildTimeline(test, catalog, 'Asia/Shanghai');
    expect(startDay).toBe('2024-01-01');
    expect(steps.map((s) => [s.label, s.instant.toISOString()])).toEqual([
      ['2024-01', '2024-02-15T16:00:00.000Z'],
      ['2024-02', '2024-03-15T16:00:00.000Z'],
      ['2024-03', '2024-04-15T16:00:00.000Z'],
      ['2024-04-22', '2024-04-21T16:00:00.000Z'],
      ['2024-Q1', '2024-04-30T16:00:00.000Z'],
      ['2024-04', '2024-05-15T16:00:00.000Z'],
    ]);
  });

  it('starts at the first period a test mentions and ends at its last step', () => {
    const test = nplTest([], '2024-Q2', {
      arrivals: [
        {
          at: { kind: 'period', period: '2024-05' },
          institution: bank.code,
          period: '2024-05',
          metric: 'npl_ratio',
          value: 3,
        },
      ],
    });
    const { steps, startDay } = buildTimeline(test, catalog, 'Asia/Shanghai');
    expect(startDay).toBe('2024-04-01');
    expect(steps.map((s) => s.label)).toEqual(['2024-04', '2024-05', '2024-06', '2024-Q2']);
  });
});
