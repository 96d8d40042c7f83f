import { describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/rules/evaluate.js';
import {
  MISSING_FILING_SKIPPED,
  monthsInRange,
  POPULATION_SKIPPED,
  replay,
} from '../../../src/rules/replay.js';
import type { Rule } from '../../../src/rules/rule.schema.js';
import {
  catalog,
  filingRule,
  jinjiangBanks,
  nplRule,
  obs,
  peerRule,
  quanzhou,
  regionRule,
  ruralBank,
  villageBank,
} from './rules.fixture.js';

const B = ruralBank.code;
const V = villageBank.code;

/** The NPL ratio of one institution, month by month from January 2024. */
const npl = (institution: string, values: readonly (number | null)[]): Observation[] =>
  values.flatMap((v, i) =>
    v === null ? [] : [obs(institution, 'npl_ratio', `2024-${String(i + 1).padStart(2, '0')}`, v)],
  );

const run = (
  rules: readonly Rule[],
  observations: readonly Observation[],
  from = '2024-01',
  to = '2024-06',
) =>
  replay({
    rules,
    catalog,
    institutions: [ruralBank, villageBank],
    observations,
    timeZone: 'Asia/Shanghai',
    from,
    to,
  });

/** Each month's transitions as `period kind institution severity value`. */
const timeline = (r: ReturnType<typeof run>) =>
  r.steps.flatMap((s) =>
    s.transitions.map(
      (t) => `${s.period} ${t.kind} ${t.alert.institution} ${t.alert.severity} ${t.alert.value}`,
    ),
  );

describe(replay.name, () => {
  it('reports each month what the rules would have done, carrying the alerts from month to month', () => {
    const r = run([nplRule()], [...npl(B, [3, 4.5, 5.5, 5.6, 3, 3]), ...npl(V, [3, 3, 3, 4.2, 4.3, 3.9])]);
    expect(r.initial).toEqual([]);
    expect(timeline(r)).toEqual([
      `2024-02 firing ${B} warning 4.5`,
      `2024-03 escalated ${B} critical 5.5`,
      `2024-04 updated ${B} critical 5.6`,
      `2024-04 firing ${V} warning 4.2`,
      `2024-05 resolved ${B} critical 3`,
      `2024-05 updated ${V} warning 4.3`,
      `2024-06 resolved ${V} warning 3.9`,
    ]);
    expect(r.steps.map((s) => s.period)).toEqual([
      '2024-01',
      '2024-02',
      '2024-03',
      '2024-04',
      '2024-05',
      '2024-06',
    ]);
    expect(r.final).toEqual([]);
    // Each month is judged at its end in the regulator's zone, never at the clock.
    expect(r.steps[1]?.transitions[0]?.at).toEqual(quanzhou('2024-03-01 00:00'));
  });

  it('fires earlier under a stricter threshold', () => {
    const history = npl(B, [3.6, 4.5, 3, 3, 3, 3]);
    expect(timeline(run([nplRule()], history))[0]).toBe(`2024-02 firing ${B} warning 4.5`);
    const stricter = nplRule({
      levels: [
        { severity: 'warning', threshold: 3.5 },
        { severity: 'critical', threshold: 5 },
      ],
    });
    expect(timeline(run([stricter], history))[0]).toBe(`2024-01 firing ${B} warning 3.6`);
  });

  it('reports an alert already under way before the range as initial, not as firing in its first month', () => {
    const history = [obs(B, 'npl_ratio', '2023-12', 6), ...npl(B, [6.1, 3])];
    const r = run([nplRule()], history, '2024-01', '2024-02');
    expect(r.initial.map((a) => [a.institution, a.state, a.severity, a.period])).toEqual([
      [B, 'firing', 'critical', '2023-12'],
    ]);
    expect(timeline(r)).toEqual([`2024-01 updated ${B} critical 6.1`, `2024-02 resolved ${B} critical 3`]);
  });

  it('uses only figures up to each month: later ones do not leak back, a month not filed changes nothing', () => {
    const r = run([nplRule()], npl(B, [6, null, null, 3, 6, 6]), '2024-01', '2024-03');
    expect(timeline(r)).toEqual([`2024-01 firing ${B} critical 6`]);
    expect(r.final.map((a) => a.period)).toEqual(['2024-01']);
  });

  it('counts a quarter from its last month on', () => {
    const car = (period: string, value: number) => obs(B, 'capital_adequacy_ratio', period, value);
    const rule = nplRule({
      id: 'car',
      metric: 'capital_adequacy_ratio',
      op: '<',
      levels: [{ severity: 'critical', threshold: 10.5 }],
    });
    const r = run([rule], [car('2024-Q1', 9.8), car('2024-Q2', 11)]);
    expect(timeline(r)).toEqual([`2024-03 firing ${B} critical 9.8`, `2024-06 resolved ${B} critical 11`]);
  });

  it('skips missing-filing rules, saying why, and reports a failing rule month by month', () => {
    const broken = nplRule({ id: 'broken', metric: 'no_such_metric' });
    const r = run([filingRule(), nplRule(), broken], npl(B, [6]), '2024-01', '2024-02');
    expect(r.skipped).toEqual([{ ruleId: filingRule().id, reason: MISSING_FILING_SKIPPED }]);
    expect(timeline(r)).toEqual([`2024-01 firing ${B} critical 6`]);
    expect(r.steps.map((s) => s.errors)).toEqual([
      [{ ruleId: 'broken', error: 'metric no_such_metric is not in the catalog' }],
      [{ ruleId: 'broken', error: 'metric no_such_metric is not in the catalog' }],
    ]);
  });

  it('judges peer and region rules against all the institutions replayed, month by month', () => {
    const population = [ruralBank, ...jinjiangBanks];
    const peers = jinjiangBanks.flatMap((b, k) => npl(b.code, [1 + k * 0.2, 1 + k * 0.2, 1 + k * 0.2]));
    const balances = (code: string, n: readonly number[]) =>
      n.flatMap((v, i) => {
        const period = `2024-0${i + 1}`;
        return [obs(code, 'npl_balance', period, v), obs(code, 'total_loans', period, 100)];
      });
    const history = [
      ...peers,
      ...npl(B, [1.5, 3.0, 1.5]),
      ...population.flatMap((b) => balances(b.code, [3, 4.5, 3])),
    ];
    const r = replay({
      rules: [peerRule(), regionRule()],
      catalog,
      institutions: population,
      observations: history,
      timeZone: 'Asia/Shanghai',
      from: '2024-01',
      to: '2024-03',
    });
    expect(r.skipped).toEqual([]);
    expect(
      r.steps.flatMap((s) =>
        s.transitions.map(
          (t) => `${s.period} ${t.kind} ${t.alert.ruleId} ${t.alert.institution ?? t.alert.region?.code}`,
        ),
      ),
    ).toEqual([
      `2024-02 firing npl_peer ${B}`,
      '2024-02 firing npl_region 晋江市',
      `2024-03 resolved npl_peer ${B}`,
      '2024-03 resolved npl_region 晋江市',
    ]);
    expect(r.steps.flatMap((s) => s.errors)).toEqual([]);
  });

  it('skips peer and region rules, saying why, when only some institutions are replayed', () => {
    const r = replay({
      rules: [peerRule(), regionRule(), nplRule()],
      catalog,
      institutions: [ruralBank],
      observations: npl(B, [6]),
      timeZone: 'Asia/Shanghai',
      from: '2024-01',
      to: '2024-01',
      subset: true,
    });
    expect(r.skipped).toEqual([
      { ruleId: 'npl_peer', reason: POPULATION_SKIPPED },
      { ruleId: 'npl_region', reason: POPULATION_SKIPPED },
    ]);
    expect(timeline(r as ReturnType<typeof run>)).toEqual([`2024-01 firing ${B} critical 6`]);
  });

  it('refuses a range that runs backwards or is not made of months', () => {
    expect(() => run([nplRule()], [], '2024-06', '2024-01')).toThrow('2024-06 comes after 2024-01');
    expect(() => run([nplRule()], [], '2024-Q1', '2024-06')).toThrow('2024-Q1 is not a month');
    expect(monthsInRange('2023-11', '2024-02')).toBe(4);
  });
});
