import { describe, expect, it } from 'vitest';
import type { ActiveAlert } from '../../../src/alerts/alert.types.js';
import { type EvaluationInput, evaluate, type Filing } from '../../../src/rules/evaluate.js';
import { filingPeriodsToLoad } from '../../../src/rules/rule.filing.js';
import {
  catalog,
  filingRule,
  guaranteeFirm,
  nplRule,
  obs,
  quanzhou,
  ruralBank,
  villageBank,
} from './rules.fixture.js';

const TZ = 'Asia/Shanghai';
/** Registered long before the periods in these tests, so every period due is expected. */
const bank = { ...ruralBank, establishedAt: new Date('2020-01-01T00:00:00Z') };
const filed = (period: string, submissionId = 1, institution = bank.code): Filing => ({
  institution,
  period,
  submissionId,
});

function run(overrides: Partial<EvaluationInput> & { now: Date }) {
  return evaluate({
    rules: [filingRule()],
    catalog,
    institutions: [bank],
    observations: [],
    filings: [],
    previous: [],
    timeZone: TZ,
    ...overrides,
  });
}

const periodsOf = (alerts: readonly ActiveAlert[]) => alerts.map((a) => a.period);

describe(`${evaluate.name}: missing filings`, () => {
  it('fires for each period due without a filing once its deadline has passed, not before', () => {
    // June is due by the end of 15 July in Quanzhou.
    const before = run({ now: quanzhou('2024-07-15 23:59') });
    expect(periodsOf(before.active)).toEqual(['2024-03', '2024-04', '2024-05']);
    const after = run({ now: quanzhou('2024-07-16 00:00') });
    expect(periodsOf(after.active)).toEqual(['2024-04', '2024-05', '2024-06']);
    expect(after.transitions.map((t) => `${t.kind} ${t.alert.period}`)).toEqual([
      'firing 2024-04',
      'firing 2024-05',
      'firing 2024-06',
    ]);
    expect(after.active[2]).toMatchObject({
      fingerprint: 'monthly_filing/QZ-RCB-01/2024-06',
      ruleId: 'monthly_filing',
      institution: 'QZ-RCB-01',
      metric: 'filing:monthly',
      state: 'firing',
      severity: 'warning',
      value: 1,
      threshold: 0,
      period: '2024-06',
      firstPeriod: '2024-06',
      periods: 1,
      submissionId: null,
      summary: {
        zh: '晋江农商银行2024-06月度数据未报送，截止2024-07-15，逾期1天',
        en: '晋江农商银行: monthly data for 2024-06 due 2024-07-15, 1 day(s) overdue',
      },
      source: '报送要求',
      firedAt: quanzhou('2024-07-16 00:00'),
    });
    expect(after.health).toEqual([{ ruleId: 'monthly_filing', ok: true }]);
  });

  it('raises nothing for periods that were filed', () => {
    const { active, transitions } = run({
      now: quanzhou('2024-07-16 00:00'),
      filings: [filed('2024-04'), filed('2024-05'), filed('2024-06')],
    });
    expect(active).toEqual([]);
    expect(transitions).toEqual([]);
  });

  it('resolves an alert when its filing arrives, carrying the submission and the days it was late', () => {
    const first = run({ now: quanzhou('2024-07-16 00:00'), filings: [filed('2024-04'), filed('2024-05')] });
    expect(periodsOf(first.active)).toEqual(['2024-06']);
    const { active, transitions } = run({
      now: quanzhou('2024-07-18 09:30'),
      filings: [filed('2024-04'), filed('2024-05'), filed('2024-06', 42)],
      previous: first.active,
    });
    expect(active).toEqual([]);
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({
      kind: 'resolved',
      from: 'firing',
      to: 'resolved',
      alert: { period: '2024-06', value: 3, submissionId: 42 },
    });
  });

  it('does not expect periods that ended before the institution was created', () => {
    const now = quanzhou('2024-07-16 00:00');
    const createdIn = (at: string) => run({ now, institutions: [{ ...bank, establishedAt: quanzhou(at) }] });
    expect(periodsOf(createdIn('2024-05-20 10:00').active)).toEqual(['2024-05', '2024-06']);
    // The last instant of May still expects May; the first of June does not.
    expect(periodsOf(createdIn('2024-05-31 23:59').active)).toEqual(['2024-05', '2024-06']);
    expect(periodsOf(createdIn('2024-06-01 00:00').active)).toEqual(['2024-06']);
    expect(periodsOf(createdIn('2024-07-10 00:00').active)).toEqual([]);
    // Without a creation time every period due is expected.
    expect(periodsOf(run({ now, institutions: [ruralBank] }).active)).toHaveLength(3);
  });

  it('looks back `lookback` periods from the latest one due', () => {
    const now = quanzhou('2024-07-16 00:00');
    expect(periodsOf(run({ now, rules: [filingRule({ lookback: 1 })] }).active)).toEqual(['2024-06']);
    expect(periodsOf(run({ now, rules: [filingRule({ lookback: 5 })] }).active)).toEqual([
      '2024-02',
      '2024-03',
      '2024-04',
      '2024-05',
      '2024-06',
    ]);
  });

  it('checks quarterly filings against the quarterly deadline', () => {
    const rule = filingRule({ id: 'quarterly_filing', frequency: 'quarterly', lookback: 2 });
    const before = run({ now: quanzhou('2025-01-30 23:59'), rules: [rule], filings: [filed('2024-Q2')] });
    expect(periodsOf(before.active)).toEqual(['2024-Q3']);
    const after = run({ now: quanzhou('2025-01-31 00:00'), rules: [rule], filings: [filed('2024-Q2')] });
    expect(after.active.map((a) => [a.fingerprint, a.metric, a.value])).toEqual([
      ['quarterly_filing/QZ-RCB-01/2024-Q3', 'filing:quarterly', 93],
      ['quarterly_filing/QZ-RCB-01/2024-Q4', 'filing:quarterly', 1],
    ]);
  });

  it('judges only the institutions of the listed types', () => {
    const { active } = run({
      now: quanzhou('2024-07-16 00:00'),
      institutions: [bank, villageBank, guaranteeFirm],
      rules: [filingRule({ lookback: 1 })],
    });
    expect(active.map((a) => a.institution)).toEqual(['QZ-RCB-01', 'QZ-VB-01']);
  });

  it('judges every institution for each missing-filing rule of one evaluation', () => {
    const { active } = run({
      now: quanzhou('2024-07-16 00:00'),
      institutions: [bank, villageBank],
      rules: [
        filingRule({ lookback: 1 }),
        filingRule({ id: 'quarterly_filing', frequency: 'quarterly', lookback: 1 }),
      ],
    });
    expect(active.map((a) => a.fingerprint)).toEqual([
      'monthly_filing/QZ-RCB-01/2024-06',
      'monthly_filing/QZ-VB-01/2024-06',
      'quarterly_filing/QZ-RCB-01/2024-Q1',
      'quarterly_filing/QZ-VB-01/2024-Q1',
    ]);
  });

  it('fails the rule, keeping its alerts, when filings or the time zone were not given', () => {
    const previous = run({ now: quanzhou('2024-07-16 00:00') }).active;
    for (const missing of [{ filings: undefined }, { timeZone: undefined }]) {
      const { active, transitions, health } = run({
        now: quanzhou('2024-07-20 00:00'),
        previous,
        ...missing,
      });
      expect(health[0]).toMatchObject({ ruleId: 'monthly_filing', ok: false });
      expect(active).toEqual(previous);
      expect(transitions).toEqual([]);
    }
  });
});

// Each row: the time in Quanzhou, the period filed just before (or null), then the periods with an
// active alert and their days overdue, and the transitions reported.
type FilingRow = [at: string, filed: string | null, active: string, transitions: string];

function playFilings(rows: readonly FilingRow[]): FilingRow[] {
  let previous: ActiveAlert[] = [];
  const filings: Filing[] = [];
  // Registered in June: May and earlier are not expected.
  const institution = { ...ruralBank, establishedAt: quanzhou('2024-06-10 09:00') };
  return rows.map(([at, period]) => {
    if (period) filings.push(filed(period, filings.length + 1, institution.code));
    const result = run({ now: quanzhou(at), institutions: [institution], filings, previous });
    previous = result.active;
    return [
      at,
      period,
      result.active.map((a) => `${a.period}:${a.value}d`).join(' ') || '-',
      result.transitions.map((t) => `${t.kind} ${t.alert.period}`).join(', ') || '-',
    ];
  });
}

describe('missing filings over a timeline', () => {
  it('fires after each deadline, updates the days overdue daily, resolves on filing, and keeps an old gap', () => {
    const rows: FilingRow[] = [
      // at (Quanzhou)     filed      active alerts                               transitions
      ['2024-07-15 23:59', null, '-', '-'],
      ['2024-07-16 00:00', null, '2024-06:1d', 'firing 2024-06'],
      ['2024-07-16 18:00', null, '2024-06:1d', '-'],
      ['2024-07-17 00:00', null, '2024-06:2d', 'updated 2024-06'],
      ['2024-07-18 09:30', '2024-06', '-', 'resolved 2024-06'],
      ['2024-08-16 00:00', null, '2024-07:1d', 'firing 2024-07'],
      ['2024-09-16 00:00', '2024-08', '2024-07:32d', 'updated 2024-07'],
      ['2024-10-16 00:00', null, '2024-07:62d 2024-09:1d', 'updated 2024-07, firing 2024-09'],
      // July has left the three-period window (October, September, August) but is still missing.
      [
        '2024-11-16 00:00',
        null,
        '2024-07:93d 2024-09:32d 2024-10:1d',
        'updated 2024-07, updated 2024-09, firing 2024-10',
      ],
      ['2024-11-16 10:00', '2024-07', '2024-09:32d 2024-10:1d', 'resolved 2024-07'],
      ['2024-11-16 10:05', null, '2024-09:32d 2024-10:1d', '-'],
    ];
    expect(playFilings(rows)).toEqual(rows);
  });
});

describe('missing filings over a timeline: late data, resubmission, flapping', () => {
  // Missing filings fire at once (no `for`) and have no level to hold by (no recovery): hysteresis does
  // not apply. A filing of a period already filed is a resubmission (a new version).
  it('resolve on a late filing, ignore a resubmission, and fire again for the next period missed', () => {
    const rows: FilingRow[] = [
      ['2024-07-16 00:00', null, '2024-06:1d', 'firing 2024-06'],
      ['2024-07-20 10:00', '2024-06', '-', 'resolved 2024-06'],
      ['2024-07-25 10:00', '2024-06', '-', '-'],
      ['2024-08-16 00:00', null, '2024-07:1d', 'firing 2024-07'],
      ['2024-08-16 08:00', '2024-07', '-', 'resolved 2024-07'],
      ['2024-09-16 00:00', null, '2024-08:1d', 'firing 2024-08'],
    ];
    expect(playFilings(rows)).toEqual(rows);
  });
});

describe('missing-filing and threshold alerts side by side', () => {
  const now = quanzhou('2024-07-16 00:00');
  const both = [nplRule(), filingRule({ lookback: 1 })];
  const breach = [obs(bank.code, 'npl_ratio', '2024-05', 6.2, 7)];
  const start = run({ now, rules: both, observations: breach });

  it('raises both kinds for one institution', () => {
    expect(start.active.map((a) => a.fingerprint)).toEqual([
      'monthly_filing/QZ-RCB-01/2024-06',
      'npl/QZ-RCB-01/npl_ratio',
    ]);
  });

  it('resolves a threshold alert on recovery without touching the missing filing, and the reverse', () => {
    const recovered = run({
      now,
      rules: both,
      observations: [
        ...breach,
        obs(bank.code, 'npl_ratio', '2024-04', 1),
        obs(bank.code, 'npl_ratio', '2024-06', 1),
      ],
      previous: start.active,
    });
    expect(recovered.transitions.map((t) => `${t.kind} ${t.alert.fingerprint}`)).toEqual([
      'resolved npl/QZ-RCB-01/npl_ratio',
    ]);
    expect(recovered.active.map((a) => a.fingerprint)).toEqual(['monthly_filing/QZ-RCB-01/2024-06']);

    const filedJune = run({
      now,
      rules: both,
      observations: breach,
      filings: [filed('2024-06')],
      previous: start.active,
    });
    expect(filedJune.transitions.map((t) => `${t.kind} ${t.alert.fingerprint}`)).toEqual([
      'resolved monthly_filing/QZ-RCB-01/2024-06',
    ]);
    expect(filedJune.active.map((a) => a.fingerprint)).toEqual(['npl/QZ-RCB-01/npl_ratio']);
  });

  it('keeps both kinds when the institution is evaluated with nothing new', () => {
    const again = run({ now, rules: both, observations: breach, previous: start.active });
    expect(again.transitions).toEqual([]);
    expect(again.active).toEqual(start.active);
  });

  it("resolves the other kind's alerts when a rule id changes kind or frequency", () => {
    const asThreshold = nplRule({ id: 'monthly_filing' });
    const changed = run({
      now,
      rules: [asThreshold, nplRule()],
      observations: breach,
      previous: start.active,
    });
    expect(changed.transitions.map((t) => `${t.kind} ${t.alert.fingerprint}`)).toEqual([
      'resolved monthly_filing/QZ-RCB-01/2024-06',
      'firing monthly_filing/QZ-RCB-01/npl_ratio',
    ]);

    const quarterly = run({
      now,
      rules: [nplRule(), filingRule({ frequency: 'quarterly', lookback: 1 })],
      observations: breach,
      previous: start.active,
    });
    expect(quarterly.transitions.map((t) => `${t.kind} ${t.alert.fingerprint}`)).toEqual([
      'resolved monthly_filing/QZ-RCB-01/2024-06',
      'firing monthly_filing/QZ-RCB-01/2024-Q1',
    ]);
  });

  it('keeps missing-filing alerts of institutions outside the evaluated set', () => {
    const { active, transitions } = run({
      now: quanzhou('2024-07-20 00:00'),
      rules: both,
      institutions: [villageBank],
      previous: start.active,
    });
    expect(transitions.filter((t) => t.alert.institution === bank.code)).toEqual([]);
    expect(active.filter((a) => a.institution === bank.code)).toEqual(start.active);
  });
});

describe(filingPeriodsToLoad.name, () => {
  it("names every missing-filing rule's window and the periods of its active alerts, once each", () => {
    const old = run({ now: quanzhou('2024-03-16 00:00'), rules: [filingRule({ lookback: 1 })] }).active;
    expect(periodsOf(old)).toEqual(['2024-02']);
    const threshold = run({
      now: quanzhou('2024-03-16 00:00'),
      rules: [nplRule()],
      observations: [obs(bank.code, 'npl_ratio', '2023-11', 6)],
    }).active;
    expect(
      filingPeriodsToLoad({
        rules: [
          nplRule(),
          filingRule({ lookback: 2 }),
          filingRule({ id: 'q', frequency: 'quarterly', lookback: 1 }),
        ],
        catalog,
        previous: [...old, ...threshold],
        now: quanzhou('2024-07-16 00:00'),
        timeZone: TZ,
      }),
    ).toEqual(['2024-02', '2024-05', '2024-06', '2024-Q1']);
  });
});
