import { describe, expect, it } from 'vitest';
import { evaluate, fingerprintOf } from '../../../src/rules/evaluate.js';
import {
  base,
  day,
  firingNpl,
  guaranteeFirm,
  nplRule,
  obs,
  ruralBank,
  villageBank,
} from './rules.fixture.js';

describe(fingerprintOf.name, () => {
  it('joins rule, institution and metric, with * for a regional alert', () => {
    expect(fingerprintOf('npl', 'QZ-RCB-01', 'npl_ratio')).toBe('npl/QZ-RCB-01/npl_ratio');
    expect(fingerprintOf('npl', null, 'npl_ratio')).toBe('npl/*/npl_ratio');
  });
});

describe(evaluate.name, () => {
  it('builds the alert with value, threshold, run, submission, source and bilingual summary', () => {
    const { active, transitions, health } = firingNpl();
    expect(active).toEqual([
      {
        fingerprint: 'npl/QZ-RCB-01/npl_ratio',
        ruleId: 'npl',
        institution: 'QZ-RCB-01',
        metric: 'npl_ratio',
        state: 'firing',
        severity: 'critical',
        value: 6.2,
        threshold: 5,
        period: '2024-03',
        firstPeriod: '2024-03',
        periods: 1,
        submissionId: 7,
        summary: {
          zh: '晋江农商银行2024-03不良贷款率6.2%，超过严重线5%',
          en: '晋江农商银行 NPL ratio 6.2% in 2024-03 (critical > 5%)',
        },
        source: '核心指标',
        startedAt: day(1),
        firedAt: day(1),
        explanation: {
          rule: { id: 'npl', kind: 'threshold', source: '核心指标', reason: null },
          quantity: { metric: 'npl_ratio', name: 'value', unit: 'percent' },
          period: '2024-03',
          value: 6.2,
          op: '>',
          threshold: 5,
          margin: 1.2,
          levels: [
            { severity: 'warning', threshold: 4 },
            { severity: 'critical', threshold: 5 },
          ],
          recovery: null,
          override: null,
          run: { first_period: '2024-03', periods: 1, for: 1, kept_since: null },
          periods: [{ period: '2024-03', value: 6.2, judged: null, submission_id: 7 }],
          periods_omitted: 0,
          detail: { kind: 'threshold' },
        },
      },
    ]);
    // Plain JSON: stored as jsonb and returned by the API as it is.
    expect(JSON.parse(JSON.stringify(active[0]?.explanation))).toEqual(active[0]?.explanation);
    expect(transitions).toEqual([{ kind: 'firing', from: null, to: 'firing', alert: active[0], at: day(1) }]);
    expect(health).toEqual([{ ruleId: 'npl', ok: true }]);
  });

  it('keeps startedAt from the pending alert and sets firedAt when it first fires, then keeps it', () => {
    const rule = nplRule({ for: 2 });
    const series = [obs(ruralBank.code, 'npl_ratio', '2024-01', 4.5)];
    const first = evaluate({ ...base, rules: [rule], observations: series, previous: [], now: day(1) });
    expect(first.active[0]).toMatchObject({ state: 'pending', startedAt: day(1), firedAt: null });
    series.push(obs(ruralBank.code, 'npl_ratio', '2024-02', 4.6));
    const second = evaluate({
      ...base,
      rules: [rule],
      observations: series,
      previous: first.active,
      now: day(2),
    });
    expect(second.active[0]).toMatchObject({
      state: 'firing',
      startedAt: day(1),
      firedAt: day(2),
      firstPeriod: '2024-01',
    });
    series.push(obs(ruralBank.code, 'npl_ratio', '2024-03', 5.6));
    const third = evaluate({
      ...base,
      rules: [rule],
      observations: series,
      previous: second.active,
      now: day(3),
    });
    expect(third.active[0]).toMatchObject({ severity: 'critical', startedAt: day(1), firedAt: day(2) });
  });

  it('resolves with the period, value, submission and explanation that cleared the alert', () => {
    const previous = firingNpl().active;
    const cleared = obs(ruralBank.code, 'npl_ratio', '2024-04', 3.2, 8);
    const { active, transitions } = evaluate({
      ...base,
      rules: [nplRule()],
      observations: [cleared],
      previous,
      now: day(2),
    });
    expect(active).toEqual([]);
    expect(transitions).toEqual([
      {
        kind: 'resolved',
        from: 'firing',
        to: 'resolved',
        alert: {
          ...previous[0],
          period: '2024-04',
          value: 3.2,
          submissionId: 8,
          explanation: expect.objectContaining({
            period: '2024-04',
            value: 3.2,
            threshold: 4, // the level it had to clear: the lowest, as the rule has no recovery level
            margin: -0.8,
            run: { first_period: '2024-04', periods: 0, for: 1, kept_since: null },
            periods: [{ period: '2024-04', value: 3.2, judged: null, submission_id: 8 }],
          }),
        },
        at: day(2),
      },
    ]);
  });

  it('is idempotent: the same data evaluated again yields no transition and an equal active set', () => {
    const first = firingNpl();
    const again = evaluate({
      ...base,
      rules: [nplRule()],
      observations: [obs(ruralBank.code, 'npl_ratio', '2024-03', 6.2, 7)],
      previous: first.active,
      now: day(9),
    });
    expect(again.transitions).toEqual([]);
    expect(again.active).toEqual(first.active);
  });

  it('judges only institutions of the covered types and sorts alerts by fingerprint', () => {
    const observations = [
      obs(villageBank.code, 'npl_ratio', '2024-03', 4.4),
      obs(ruralBank.code, 'npl_ratio', '2024-03', 6),
      obs(guaranteeFirm.code, 'npl_ratio', '2024-03', 9), // not a bank: the rule does not cover it
    ];
    const { active, transitions } = evaluate({
      ...base,
      rules: [nplRule()],
      observations,
      previous: [],
      now: day(1),
    });
    expect(active.map((a) => [a.fingerprint, a.severity])).toEqual([
      ['npl/QZ-RCB-01/npl_ratio', 'critical'],
      ['npl/QZ-VB-01/npl_ratio', 'warning'],
    ]);
    expect(transitions.map((t) => t.alert.fingerprint)).toEqual(active.map((a) => a.fingerprint));
  });
});
