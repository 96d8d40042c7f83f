import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { evaluate } from '../../../src/rules/evaluate.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import {
  catalog,
  day,
  nplRule,
  obs,
  playTimeline,
  ruralBank,
  type TimelineRow,
  villageBank,
} from './rules.fixture.js';

// Timelines as in evaluate.timeline.test.ts: the value filed for a period, then the alert held
// afterwards (state, severity, run) and the transition reported.
describe('hysteresis (recovery)', () => {
  it('without it, a value hovering at the limit fires and resolves period after period', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.1, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 3.9, '-', '-', '-', 'resolved'],
      ['2024-03', 4.1, 'firing', 'warning', 1, 'firing'],
      ['2024-04', 3.95, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(nplRule(), ruralBank, rows)).toEqual(rows);
  });

  it('with it, the alert holds until the value falls back past the recovery level', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.9, '-', '-', '-', '-'], // above recovery, but no alert is active: nothing starts
      ['2024-02', 4.1, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 3.9, 'firing', 'warning', 2, 'updated'], // held at the lowest level
      ['2024-04', 5.2, 'firing', 'critical', 3, 'escalated'],
      ['2024-05', 3.6, 'firing', 'warning', 4, 'deescalated'],
      ['2024-06', 3.5, '-', '-', '-', 'resolved'], // '>' 3.5 no longer holds
      ['2024-07', 3.9, '-', '-', '-', '-'], // a new run needs a real breach again
      ['2024-08', 4.01, 'firing', 'warning', 1, 'firing'],
    ];
    expect(playTimeline(nplRule({ recovery: 3.5 }), ruralBank, rows)).toEqual(rows);
  });

  it('counts hysteresis periods toward for, and a corrected resubmission re-judges the run', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.2, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 3.8, 'pending', 'warning', 2, 'updated'],
      ['2024-03', 3.9, 'firing', 'warning', 3, 'firing'],
      // January corrected to 3.9: the run never started there, so it starts nowhere before March's
      // 3.9 either: no breach in the series any more.
      ['2024-01', 3.9, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(nplRule({ recovery: 3.5, for: 3 }), ruralBank, rows)).toEqual(rows);
  });
});

describe('keep_firing_for', () => {
  it('keeps a firing alert firing for M reported periods after its condition cleared', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 5.5, 'firing', 'critical', 1, 'firing'],
      ['2024-02', 3.0, 'firing', 'critical', 1, 'updated'], // kept: the value moves, the breach stays
      ['2024-03', 3.1, 'firing', 'critical', 1, 'updated'],
      ['2024-04', 3.2, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(nplRule({ keep_firing_for: 2 }), ruralBank, rows)).toEqual(rows);
  });

  it('carries a kept alert on as firing when the condition comes back, without waiting for `for` again', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 4.6, 'firing', 'warning', 2, 'firing'],
      ['2024-03', 3.0, 'firing', 'warning', 2, 'updated'], // kept
      ['2024-04', 4.4, 'firing', 'warning', 1, 'updated'], // back: a new run, still firing
      ['2024-05', 3.0, 'firing', 'warning', 1, 'updated'], // kept again, for another 2 periods
      ['2024-06', 3.0, 'firing', 'warning', 1, 'updated'],
      ['2024-07', 3.0, '-', '-', '-', 'resolved'],
      ['2024-08', 4.4, 'pending', 'warning', 1, 'pending'], // the alert had ended: `for` applies
    ];
    expect(playTimeline(nplRule({ for: 2, keep_firing_for: 2 }), ruralBank, rows)).toEqual(rows);
  });

  it('does not keep a pending alert, nor one across a missing period', () => {
    const pending: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 3.0, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(nplRule({ for: 2, keep_firing_for: 3 }), ruralBank, pending)).toEqual(pending);
    const gap: TimelineRow[] = [
      ['2024-01', 4.5, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 3.0, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(nplRule({ keep_firing_for: 3 }), ruralBank, gap)).toEqual(gap);
  });

  it('describes the last breach in the summary while showing the latest value', () => {
    const rule = nplRule({ keep_firing_for: 1 });
    const first = evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank],
      observations: [obs(ruralBank.code, 'npl_ratio', '2024-01', 5.5, 1)],
      previous: [],
      now: day(1),
    });
    const kept = evaluate({
      rules: [rule],
      catalog,
      institutions: [ruralBank],
      observations: [
        obs(ruralBank.code, 'npl_ratio', '2024-01', 5.5, 1),
        obs(ruralBank.code, 'npl_ratio', '2024-02', 3.1, 2),
      ],
      previous: first.active,
      now: day(2),
    });
    expect(kept.active[0]).toMatchObject({ state: 'firing', value: 3.1, period: '2024-02', threshold: 5 });
    expect(kept.active[0]?.summary.en).toContain('5.5');
    expect(kept.active[0]?.summary.en).toContain('2024-01');
  });
});

describe('overrides with effective dates', () => {
  const provision = (over: Parameters<typeof nplRule>[0] = {}) =>
    nplRule({
      id: 'provision',
      metric: 'provision_coverage_ratio',
      op: '<',
      levels: [
        { severity: 'warning', threshold: 130 },
        { severity: 'critical', threshold: 120 },
      ],
      ...over,
    });

  it("applies one bank's own requirement from its period on, and the rule's before it", () => {
    const rule = provision({
      overrides: [
        {
          institutions: [ruralBank.code],
          from: '2024-03',
          levels: [
            { severity: 'warning', threshold: 150 },
            { severity: 'critical', threshold: 140 },
          ],
          source: '监管意见书（2024）第7号：拨备覆盖率不低于140%',
        },
      ],
    });
    const rows: TimelineRow[] = [
      ['2024-01', 145, '-', '-', '-', '-'], // the rule's 130/120: fine
      ['2024-02', 145, '-', '-', '-', '-'],
      ['2024-03', 145, 'firing', 'warning', 1, 'firing'], // the bank's 150/140 from March
      ['2024-04', 138, 'firing', 'critical', 2, 'escalated'],
    ];
    expect(playTimeline(rule, ruralBank, rows)).toEqual(rows);
    // The village bank is not named: the rule's own levels still apply to it.
    expect(
      playTimeline(
        rule,
        villageBank,
        rows.slice(0, 3).map(([p, v]) => [p, v, '-', '-', '-', '-']),
      ),
    ).toEqual(rows.slice(0, 3).map(([p, v]) => [p, v, '-', '-', '-', '-']));
  });

  it("cites the override's source, and judges late data for an old period by that period's levels", () => {
    const rule = provision({
      overrides: [
        {
          types: ['village_bank'],
          from: '2024-01',
          until: '2024-06',
          levels: [{ severity: 'warning', threshold: 125 }],
          source: '村镇银行过渡期要求',
        },
        {
          institutions: [villageBank.code],
          from: '2024-04',
          levels: [{ severity: 'warning', threshold: 135 }],
          source: '专项监管要求',
        },
      ],
    });
    const at = (observations: ReturnType<typeof obs>[]) =>
      evaluate({
        rules: [rule],
        catalog,
        institutions: [villageBank],
        observations,
        previous: [],
        now: day(1),
      }).active;
    // March: the type's transition rule (warning below 125) — 128 is fine.
    expect(at([obs(villageBank.code, 'provision_coverage_ratio', '2024-03', 128)])).toEqual([]);
    // May: the bank's own requirement (below 135) outranks the type's.
    expect(at([obs(villageBank.code, 'provision_coverage_ratio', '2024-05', 128)])).toEqual([
      expect.objectContaining({ severity: 'warning', threshold: 135, source: '专项监管要求' }),
    ]);
    // February filed late, after May: judged by February's levels; the latest period is still May.
    const late = at([
      obs(villageBank.code, 'provision_coverage_ratio', '2024-05', 136, 1),
      obs(villageBank.code, 'provision_coverage_ratio', '2024-02', 124, 2),
    ]);
    expect(late).toEqual([]);
    // Before 2024 neither override applies: the rule's own warning at 130, with its own source.
    expect(at([obs(villageBank.code, 'provision_coverage_ratio', '2023-12', 128)])).toEqual([
      expect.objectContaining({ threshold: 130, source: '核心指标' }),
    ]);
  });
});

describe('rule files with recovery, keep_firing_for and overrides', () => {
  const file = (rule: string) => `groups:
  - name: t
    rules:
      - id: provision
        metric: provision_coverage_ratio
        types: [rural_commercial_bank, village_bank]
        op: "<"
        levels:
          - { severity: warning, threshold: 130 }
          - { severity: critical, threshold: 120 }
        source: 商业银行贷款损失准备管理办法
        summary: { zh: "{{value}}", en: "{{value}}" }
${rule}`;
  const problems = (text: string) => {
    const result = parseRuleFile('t.rules.yaml', text, catalog);
    return result.ok ? [] : formatProblems(result.problems).split('\n');
  };

  it('accepts them, with defaults', () => {
    const result = parseRuleFile(
      't.rules.yaml',
      file(`        recovery: 135
        keep_firing_for: 2
        overrides:
          - institutions: [QZRCB001]
            from: 2024-03
            levels: [{ severity: warning, threshold: 150 }]
            recovery: 155
            source: 监管意见书`),
      catalog,
    );
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.value[0]).toMatchObject({
      recovery: 135,
      keep_firing_for: 2,
      overrides: [{ from: '2024-03' }],
    });
    expect(parseRuleFile('t.rules.yaml', file(''), catalog)).toMatchObject({
      ok: true,
      value: [{ keep_firing_for: 0, overrides: [] }],
    });
  });

  it('refuses a recovery on the wrong side, in the rule or inherited by an override', () => {
    expect(problems(file('        recovery: 125'))).toEqual([
      "t.rules.yaml:13: groups[0].rules[0].recovery: with op '<' recovery (125) must be at or above the lowest threshold (130)",
    ]);
    expect(
      problems(
        file(`        recovery: 132
        overrides:
          - types: [village_bank]
            levels: [{ severity: warning, threshold: 140 }]
            source: x`),
      ),
    ).toEqual([
      "t.rules.yaml:15: groups[0].rules[0].overrides[0].recovery: with op '<' recovery (132) must be at or above the lowest threshold (140)",
    ]);
  });

  it('refuses an override dated in quarters for a monthly metric', () => {
    expect(
      problems(
        file(`        overrides:
          - institutions: [A]
            from: 2024-Q2
            levels: [{ severity: warning, threshold: 140 }]
            source: x`),
      ),
    ).toEqual([
      't.rules.yaml:15: groups[0].rules[0].overrides[0].from: from 2024-Q2 is not a monthly period, as provision_coverage_ratio is',
    ]);
  });

  it('refuses overrides naming both or neither scope, foreign types, bad or reversed dates, disordered levels', () => {
    expect(
      problems(
        file(`        overrides:
          - levels: [{ severity: warning, threshold: 140 }]
            source: x
          - types: [financing_guarantee]
            institutions: [A]
            levels: [{ severity: warning, threshold: 140 }]
            source: x
          - institutions: [A]
            from: 2024-13
            levels: [{ severity: warning, threshold: 140 }]
            source: x
          - institutions: [A]
            from: 2024-05
            until: 2024-04
            levels: [{ severity: warning, threshold: 140 }]
            source: x
          - institutions: [A]
            from: 2024-Q2
            levels: [{ severity: critical, threshold: 140 }, { severity: warning, threshold: 130 }]
            source: x`),
      ),
    ).toEqual([
      't.rules.yaml:14: groups[0].rules[0].overrides[0]: an override names exactly one of types, attributes or institutions',
      't.rules.yaml:16: groups[0].rules[0].overrides[1]: an override names exactly one of types, attributes or institutions',
      "t.rules.yaml:16: groups[0].rules[0].overrides[1].types[0]: type financing_guarantee is not one of the rule's types",
      't.rules.yaml:21: groups[0].rules[0].overrides[2].from: must be a period such as 2024-06 or 2024-Q2',
      't.rules.yaml:26: groups[0].rules[0].overrides[3].until: until 2024-04 is before from 2024-05',
      "t.rules.yaml:31: groups[0].rules[0].overrides[4].levels: with op '<' the critical threshold (140) must be below the warning threshold (130)",
    ]);
  });
});
