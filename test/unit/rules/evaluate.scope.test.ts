import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/rules/evaluate.js';
import { base, day, firingNpl, nplRule, obs, ruralBank, villageBank } from './rules.fixture.js';

// Which previous alerts survive an evaluation: no data, out of scope, rule edits, and failing rules.
describe(`${evaluate.name}: what happens to previous alerts`, () => {
  it('keeps an alert unchanged when the institution has no data for the metric', () => {
    const previous = firingNpl().active;
    const otherMetric = [obs(ruralBank.code, 'liquidity_ratio', '2024-04', 40)];
    const { active, transitions } = evaluate({
      ...base,
      rules: [nplRule()],
      observations: otherMetric,
      previous,
      now: day(2),
    });
    expect(transitions).toEqual([]);
    expect(active).toEqual(previous);
  });

  it('keeps an alert unchanged when the period it was judged in lost its value (resolving on older data is lack of data)', () => {
    const previous = firingNpl().active; // judged in 2024-03
    const { active, transitions } = evaluate({
      ...base,
      rules: [nplRule()],
      // A resubmission of 2024-03 without the metric leaves only February, below every level.
      observations: [obs(ruralBank.code, 'npl_ratio', '2024-02', 1.2)],
      previous,
      now: day(2),
    });
    expect(transitions).toEqual([]);
    expect(active).toEqual(previous);
  });

  it('keeps alerts of institutions outside the evaluated set unchanged', () => {
    const previous = firingNpl().active;
    const { active, transitions } = evaluate({
      ...base,
      institutions: [villageBank],
      rules: [nplRule()],
      observations: [],
      previous,
      now: day(2),
    });
    expect(transitions).toEqual([]);
    expect(active).toEqual(previous);
  });

  it('resolves an alert whose rule was removed, with its last values', () => {
    const previous = firingNpl().active;
    const { active, transitions, health } = evaluate({
      ...base,
      rules: [],
      observations: [],
      previous,
      now: day(2),
    });
    expect(active).toEqual([]);
    expect(health).toEqual([]);
    expect(transitions).toEqual([
      { kind: 'resolved', from: 'firing', to: 'resolved', alert: previous[0], at: day(2) },
    ]);
  });

  it('resolves an alert whose rule no longer covers the institution type or the metric', () => {
    const previous = firingNpl().active;
    for (const edited of [
      nplRule({ types: ['village_bank'] }),
      nplRule({ metric: 'loan_provision_ratio' }),
    ]) {
      const { active, transitions } = evaluate({
        ...base,
        rules: [edited],
        observations: [],
        previous,
        now: day(2),
      });
      expect(active).toEqual([]);
      expect(transitions.map((t) => [t.kind, t.alert.fingerprint])).toEqual([
        ['resolved', 'npl/QZ-RCB-01/npl_ratio'],
      ]);
    }
  });

  it('isolates a failing rule: its health shows the error, its alerts stay, other rules still run', () => {
    const previous = firingNpl().active;
    const broken = nplRule({ metric: 'no_such_metric' });
    const badPeriod = nplRule({ id: 'npl_bad_data' });
    const liquidity = nplRule({
      id: 'liquidity',
      metric: 'liquidity_ratio',
      op: '<',
      levels: [{ severity: 'critical', threshold: 25 }],
    });
    const { active, transitions, health } = evaluate({
      ...base,
      rules: [broken, badPeriod, liquidity],
      observations: [
        obs(ruralBank.code, 'liquidity_ratio', '2024-04', 20),
        obs(villageBank.code, 'npl_ratio', '2024-Q1', 6),
      ],
      previous,
      now: day(2),
    });
    expect(health).toEqual([
      { ruleId: 'liquidity', ok: true },
      { ruleId: 'npl', ok: false, error: 'metric no_such_metric is not in the catalog' },
      {
        ruleId: 'npl_bad_data',
        ok: false,
        error: 'QZ-VB-01 npl_ratio: period "2024-Q1" is not a monthly period',
      },
    ]);
    expect(active.map((a) => a.fingerprint)).toEqual([
      'liquidity/QZ-RCB-01/liquidity_ratio',
      'npl/QZ-RCB-01/npl_ratio',
    ]);
    expect(active[1]).toBe(previous[0]);
    expect(transitions.map((t) => t.kind)).toEqual(['firing']);
  });
});
