import { describe, expect, it } from 'vitest';
import type { ActiveAlert } from '../../../src/alerts/alert.types.js';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { type EvaluationInput, evaluate, type Observation } from '../../../src/rules/evaluate.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import { peerGroup, percentileRank, robustZ } from '../../../src/rules/rule.peer.js';
import {
  catalog,
  day,
  jinjiangBanks,
  obs,
  peerRule,
  playTimeline,
  ruralBank,
  type TimelineRow,
  villageBank,
} from './rules.fixture.js';

/** Five rural commercial banks with NPL ratios 1.0 … 1.8 in each given month: the judged bank's peers. */
const MONTHS = Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}`);
const peerValues = [1.0, 1.2, 1.4, 1.6, 1.8];
function peerObservations(months: readonly string[] = MONTHS): Observation[] {
  return months.flatMap((period, m) =>
    jinjiangBanks.map((bank, k) => obs(bank.code, 'npl_ratio', period, peerValues[k] as number, 1000 + m)),
  );
}
const withPeers =
  (observations: readonly Observation[] = peerObservations()) =>
  (input: EvaluationInput): EvaluationInput => ({
    ...input,
    peers: { institutions: jinjiangBanks, observations },
  });

// With those peers and a judged value x ≥ 1.8: median 1.5, MAD 0.3, z = (x − 1.5) / (1.4826 × 0.3):
// 2.0 → 1.12, 2.2 → 1.57, 2.5 → 2.25, 2.9 → 3.15, 3.0 → 3.37, 4.0 → 5.62.
describe('peer-outlier rules over a timeline', () => {
  it('fire on a robust z above 3, escalate above 5, resolve, and flap without hysteresis', () => {
    const rows: TimelineRow[] = [
      // period  NPL of the bank  state  severity  run  transition
      ['2024-01', 2.0, '-', '-', '-', '-'],
      ['2024-02', 3.0, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 4.0, 'firing', 'critical', 2, 'escalated'],
      ['2024-04', 2.9, 'firing', 'warning', 3, 'deescalated'],
      ['2024-05', 2.5, '-', '-', '-', 'resolved'],
      ['2024-06', 3.0, 'firing', 'warning', 1, 'firing'],
      ['2024-07', 2.5, '-', '-', '-', 'resolved'],
      ['2024-07', null, '-', '-', '-', '-'],
    ];
    expect(playTimeline(peerRule(), ruralBank, rows, { extend: withPeers() })).toEqual(rows);
  });

  it('hold an alert by recovery on the statistic until z falls to it', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.0, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 2.5, 'firing', 'warning', 2, 'updated'], // z 2.25: above the recovery level 2
      ['2024-03', 2.2, '-', '-', '-', 'resolved'], // z 1.57
      ['2024-04', 2.5, '-', '-', '-', '-'], // a new run needs a real breach
    ];
    expect(playTimeline(peerRule({ recovery: 2 }), ruralBank, rows, { extend: withPeers() })).toEqual(rows);
  });

  it('count a month filed late into the run, and re-judge it when a resubmission corrects it', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.0, 'pending', 'warning', 1, 'pending'],
      ['2024-03', 3.0, 'pending', 'warning', 1, 'updated'], // February missing: the run starts again
      ['2024-02', 3.0, 'firing', 'warning', 3, 'firing'], // February filed late: three in a row
      ['2024-02', 2.0, 'pending', 'warning', 1, 'pending'], // February corrected: March stands alone
    ];
    expect(playTimeline(peerRule({ for: 2 }), ruralBank, rows, { extend: withPeers() })).toEqual(rows);
  });

  it('judge nothing in a month with fewer than min_peers values: no firing, no resolution', () => {
    const noPeersInMay = withPeers(peerObservations(MONTHS.filter((m) => m !== '2024-05')));
    const rows: TimelineRow[] = [
      ['2024-04', 3.0, 'firing', 'warning', 1, 'firing'],
      ['2024-05', 2.0, 'firing', 'warning', 1, '-'], // the bank alone in May: a gap
      ['2024-05', 4.0, 'firing', 'warning', 1, '-'],
      ['2024-06', 3.0, 'firing', 'warning', 1, 'updated'], // judged again; May's gap restarted the run
    ];
    expect(playTimeline(peerRule(), ruralBank, rows, { extend: noPeersInMay })).toEqual(rows);
  });

  it('keep firing for keep_firing_for reported periods once the bank is back among its peers', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.0, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 2.0, 'firing', 'warning', 1, 'updated'],
      ['2024-03', 2.0, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(peerRule({ keep_firing_for: 1 }), ruralBank, rows, { extend: withPeers() })).toEqual(
      rows,
    );
  });

  it('judge the low tail with op "<" on a negative z, and percentile ranks with their own levels', () => {
    const low = peerRule({ op: '<', levels: [{ severity: 'warning', threshold: -2 }] });
    // x = 0.1: sorted 0.1 1.0 1.2 1.4 1.6 1.8, median 1.3, deviations 1.2 .3 .1 .1 .3 .5 → MAD 0.3.
    expect(judge(low, 0.1)?.value).toBeCloseTo((0.1 - 1.3) / (1.4826 * 0.3), 9);
    expect(judge(low, 1.0)).toBeUndefined();
    // Top of six with no tie: 100 × (5 + 1/2) / 6 = 91.67.
    const top = peerRule({
      method: 'percentile',
      op: '>=',
      levels: [{ severity: 'warning', threshold: 90 }],
    });
    expect(judge(top, 2.0)).toMatchObject({ value: 91.6666666667, threshold: 90 });
    // Tied with the top peer: 100 × (4 + 2/2) / 6 = 83.33.
    expect(judge(top, 1.8)).toBeUndefined();
  });
});

/** The bank's alert for one month's value among the five peers, if any. */
function judge(rule: ReturnType<typeof peerRule>, x: number): ActiveAlert | undefined {
  const { active, health } = evaluate({
    rules: [rule],
    catalog,
    institutions: [ruralBank],
    observations: [obs(ruralBank.code, 'npl_ratio', '2024-01', x, 1)],
    peers: { institutions: jinjiangBanks, observations: peerObservations(['2024-01']) },
    previous: [],
    now: day(1),
  });
  expect(health).toEqual([{ ruleId: rule.id, ok: true }]);
  return active[0];
}

describe('peer statistics', () => {
  it('take the median, the MAD and the robust z as a supervisor would redo them', () => {
    const g = peerGroup('rural_commercial_bank', '2024-01', [1.8, 1.0, 3.0, 1.4, 1.2, 1.6]);
    expect([...g.sorted]).toEqual([1.0, 1.2, 1.4, 1.6, 1.8, 3.0]);
    expect(g.median).toBeCloseTo(1.5, 12); // even count: the mean of the middle two
    expect(g.mad).toBeCloseTo(0.3, 12);
    expect(g.spread).toEqual({ basis: 'mad', value: expect.closeTo(1.4826 * 0.3, 12) });
    expect(robustZ(g, 3.0)).toBeCloseTo(1.5 / (1.4826 * 0.3), 12);
    expect(robustZ(g, 1.5)).toBe(0);
  });

  it('fall back on the mean absolute deviation when the MAD is 0, and give z 0 when all values agree', () => {
    // Three of five banks report exactly 1%: the MAD is 0, and one bank at 5% must still stand out.
    const g = peerGroup('village_bank', '2024-01', [1, 1, 1, 1.2, 5]);
    expect(g.mad).toBe(0);
    expect(g.meanAd).toBeCloseTo(4.2 / 5, 12);
    expect(g.spread.basis).toBe('mean_ad');
    expect(robustZ(g, 5)).toBeCloseTo(4 / (1.253314 * 0.84), 12);
    const same = peerGroup('village_bank', '2024-01', [2, 2, 2, 2, 2]);
    expect(same.spread).toEqual({ basis: 'none', value: 0 });
    expect(robustZ(same, 2)).toBe(0);
  });

  it('rank by the mid-rank percentile: below counts whole, equal (itself included) half', () => {
    const g = peerGroup('village_bank', '2024-01', [1, 2, 2, 3]);
    expect(percentileRank(g, 1)).toEqual({ rank: 12.5, below: 0, equal: 1 });
    expect(percentileRank(g, 2)).toEqual({ rank: 50, below: 1, equal: 2 });
    expect(percentileRank(g, 3)).toEqual({ rank: 87.5, below: 3, equal: 1 });
  });
});

describe(`${evaluate.name}: peer-outlier rules`, () => {
  const input = (over: Partial<EvaluationInput> = {}): EvaluationInput => ({
    rules: [peerRule()],
    catalog,
    institutions: [ruralBank],
    observations: [obs(ruralBank.code, 'npl_ratio', '2024-01', 3.0, 7)],
    peers: { institutions: jinjiangBanks, observations: peerObservations(['2024-01']) },
    previous: [],
    now: day(1),
    ...over,
  });

  it('group peers by type, from scope and peers alike, and never judge the peers', () => {
    const outlierPeer = [...peerObservations(['2024-01']), obs('QZ-RCB-15', 'npl_ratio', '2024-01', 1.8, 2)];
    const { active } = evaluate(input({ peers: { institutions: jinjiangBanks, observations: outlierPeer } }));
    expect(active.map((a) => a.fingerprint)).toEqual(['npl_peer/QZ-RCB-01/npl_ratio']);
    // A village bank is not a rural commercial bank's peer: alone in its type, it is not judged.
    const village = evaluate(
      input({
        institutions: [ruralBank, villageBank],
        observations: [
          obs(ruralBank.code, 'npl_ratio', '2024-01', 3.0, 7),
          obs(villageBank.code, 'npl_ratio', '2024-01', 9.0, 8),
        ],
      }),
    );
    expect(village.active.map((a) => a.institution)).toEqual([ruralBank.code]);
  });

  it('count an institution in scope once, with its own observations, when also listed as a peer', () => {
    const both = evaluate(
      input({
        peers: {
          institutions: [...jinjiangBanks, ruralBank],
          observations: [
            ...peerObservations(['2024-01']),
            obs(ruralBank.code, 'npl_ratio', '2024-01', 1.5, 3),
          ],
        },
      }),
    );
    expect(both.active[0]?.explanation?.detail).toMatchObject({ kind: 'peer_outlier', peers: 6 });
    expect(both.active[0]?.value).toBeCloseTo(3.372454, 5);
  });

  it('explain the group, its statistics and the statistic, with the summary placeholders', () => {
    const [alert] = evaluate(input()).active;
    expect(alert).toMatchObject({
      state: 'firing',
      severity: 'warning',
      threshold: 3,
      summary: {
        en: `${ruralBank.name} NPL ratio 3% in 2024-01, peer median 1.5%, z 3.37 (6 Rural commercial bank)`,
        zh: `${ruralBank.name}2024-01不良贷款率3%，同类中位数1.5%，z=3.37（6家农村商业银行）`,
      },
    });
    expect(alert?.explanation).toMatchObject({
      rule: { id: 'npl_peer', kind: 'peer_outlier', source: '同类机构比较' },
      quantity: { metric: 'npl_ratio', name: 'robust_z', unit: 'z' },
      value: 3.3724537974,
      op: '>',
      threshold: 3,
      margin: 0.3724537974,
      periods: [{ period: '2024-01', value: 3, judged: 3.3724537974, submission_id: 7 }],
      detail: {
        kind: 'peer_outlier',
        method: 'robust_z',
        group: { type: 'rural_commercial_bank', period: '2024-01' },
        peers: 6,
        min_peers: 5,
        median: 1.5,
        mad: 0.3,
        mean_ad: 0.466666666667,
        spread: { basis: 'mad', value: 0.44478 },
        below: 5,
        equal: 1,
        statistic: 3.3724537974,
        definition: expect.stringContaining('1.4826 × MAD'),
      },
    });
  });

  it('fail as a rule error, keeping its alerts, when no peers were given', () => {
    const first = evaluate(input());
    const { peers: _none, ...withoutPeers } = input({ previous: first.active, now: day(2) });
    const result = evaluate(withoutPeers);
    expect(result.health).toEqual([
      { ruleId: 'npl_peer', ok: false, error: expect.stringContaining('peers were not loaded') },
    ]);
    expect(result.active).toEqual(first.active);
    expect(result.transitions).toEqual([]);
    // Empty peers are fine: the scope is then the population (here the bank alone: no group, no alert).
    expect(evaluate(input({ peers: { institutions: [], observations: [] } })).health[0]?.ok).toBe(true);
  });

  it('re-judge an old month when a peer files it late', () => {
    const rule = peerRule({ min_peers: 6, for: 2 });
    const bank = [
      obs(ruralBank.code, 'npl_ratio', '2024-01', 3.0, 1),
      obs(ruralBank.code, 'npl_ratio', '2024-02', 3.0, 2),
    ];
    const febPeers = peerObservations(['2024-02']);
    const janFour = peerObservations(['2024-01']).slice(0, 4); // January: the bank and four peers
    const before = evaluate(
      input({
        rules: [rule],
        observations: bank,
        peers: { institutions: jinjiangBanks, observations: [...janFour, ...febPeers] },
      }),
    );
    expect(before.active[0]).toMatchObject({ state: 'pending', periods: 1, period: '2024-02' });
    const late = evaluate(
      input({
        rules: [rule],
        observations: bank,
        peers: { institutions: jinjiangBanks, observations: [...peerObservations(), ...febPeers] },
        previous: before.active,
        now: day(2),
      }),
    );
    expect(late.transitions.map((t) => [t.kind, t.alert.periods, t.alert.firstPeriod])).toEqual([
      ['firing', 2, '2024-01'],
    ]);
  });
});

describe('peer-outlier rule files', () => {
  const load = (body: string) => {
    const result = parseRuleFile(
      'p.rules.yaml',
      `groups:\n  - name: p\n    rules:\n      - id: npl_peer\n        kind: peer_outlier\n        metric: npl_ratio\n        types: [rural_commercial_bank]\n        source: x\n        summary: { zh: "{{value}} {{median}} {{peers}} {{type_name}}", en: "{{current}}" }\n${body}`,
      catalog,
    );
    return result.ok ? result.value : formatProblems(result.problems).split('\n');
  };

  it('load with their defaults', () => {
    expect(
      load(
        '        method: robust_z\n        op: ">"\n        levels: [{ severity: critical, threshold: 5 }, { severity: warning, threshold: 3 }]\n',
      ),
    ).toMatchObject([
      {
        kind: 'peer_outlier',
        min_peers: 5,
        for: 1,
        keep_firing_for: 0,
        levels: [
          { severity: 'warning', threshold: 3 },
          { severity: 'critical', threshold: 5 },
        ],
      },
    ]);
  });

  it('refuse an unknown method, percentile levels outside 0–100, too few peers and disordered levels', () => {
    expect(
      load(
        '        method: mean_z\n        op: ">"\n        levels: [{ severity: warning, threshold: 3 }]\n',
      ),
    ).toEqual([
      'p.rules.yaml:10: groups[0].rules[0].method: Invalid option: expected one of "robust_z"|"percentile"',
    ]);
    expect(
      load(
        '        method: percentile\n        op: ">="\n        levels: [{ severity: warning, threshold: 95 }, { severity: critical, threshold: 101 }]\n        min_peers: 2\n',
      ),
    ).toEqual([
      'p.rules.yaml:12: groups[0].rules[0].levels[1].threshold: a percentile rank lies between 0 and 100, not 101',
      'p.rules.yaml:13: groups[0].rules[0].min_peers: Too small: expected number to be >=3',
    ]);
    expect(
      load(
        '        method: robust_z\n        op: "<"\n        levels: [{ severity: warning, threshold: -5 }, { severity: critical, threshold: -3 }]\n',
      ),
    ).toEqual([
      "p.rules.yaml:12: groups[0].rules[0].levels: with op '<' the critical threshold (-3) must be below the warning threshold (-5)",
    ]);
  });
});
