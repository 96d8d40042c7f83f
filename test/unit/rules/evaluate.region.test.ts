import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import {
  aggregateRegions,
  type EvaluationInput,
  evaluate,
  type InstitutionRef,
  type Observation,
} from '../../../src/rules/evaluate.js';
import { parseRuleFile } from '../../../src/rules/rule.loader.js';
import { parseRegionKey, quotientOf, type RegionTotal } from '../../../src/rules/rule.region.js';
import {
  catalog,
  day,
  guaranteeFirm,
  jinjiangBanks,
  obs,
  playTimeline,
  regionRule,
  ruralBank,
  type TimelineRow,
  villageBank,
  withTotals,
} from './rules.fixture.js';

/** 晋江市 holds the fixture's rural bank and two more: the region's three members. */
const members = [ruralBank, jinjiangBanks[0], jinjiangBanks[1]] as InstitutionRef[];
/** A row's value v becomes each member's NPL balance v on loans of 100: the county's ratio is v %. */
const arrive = (period: string, v: number, id: number): Observation[] =>
  members.flatMap((m, k) => [
    obs(m.code, 'npl_balance', period, v, id * 10 + k),
    obs(m.code, 'total_loans', period, 100, id * 10 + k),
  ]);
const setup = { arrive, extend: withTotals(members) };

describe('region-aggregate rules over a timeline', () => {
  it('fire on the county ratio, escalate, resolve, and flap without hysteresis', () => {
    const rows: TimelineRow[] = [
      // period  county NPL ratio  state  severity  run  transition
      ['2024-01', 3.5, '-', '-', '-', '-'],
      ['2024-02', 4.2, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 5.5, 'firing', 'critical', 2, 'escalated'],
      ['2024-04', 3.9, '-', '-', '-', 'resolved'],
      ['2024-05', 4.1, 'firing', 'warning', 1, 'firing'],
      ['2024-06', 3.95, '-', '-', '-', 'resolved'],
      ['2024-06', null, '-', '-', '-', '-'],
    ];
    expect(playTimeline(regionRule(), ruralBank, rows, setup)).toEqual(rows);
  });

  it('hold an alert by recovery until the ratio falls to it', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.2, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 3.8, 'firing', 'warning', 2, 'updated'],
      ['2024-03', 3.4, '-', '-', '-', 'resolved'],
      ['2024-04', 3.8, '-', '-', '-', '-'],
    ];
    expect(playTimeline(regionRule({ recovery: 3.5 }), ruralBank, rows, setup)).toEqual(rows);
  });

  it('count a month filed late into the run, re-judge a corrected one, and keep firing when asked', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-03', 4.5, 'pending', 'warning', 1, 'updated'],
      ['2024-02', 4.5, 'firing', 'warning', 3, 'firing'],
      ['2024-02', 3.0, 'pending', 'warning', 1, 'pending'],
    ];
    expect(playTimeline(regionRule({ for: 2 }), ruralBank, rows, setup)).toEqual(rows);
    const kept: TimelineRow[] = [
      ['2024-01', 5.5, 'firing', 'critical', 1, 'firing'],
      ['2024-02', 3.0, 'firing', 'critical', 1, 'updated'],
      ['2024-03', 3.0, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(regionRule({ keep_firing_for: 1 }), ruralBank, kept, setup)).toEqual(kept);
  });

  it('keep the alert through a rule error and resolve it when the rule is removed', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'firing', 'warning', 1, 'firing'],
      ['2024-01', 'rule broken', 'firing', 'warning', 1, 'rule error'],
      ['2024-01', 'rule fixed', 'firing', 'warning', 1, '-'],
      ['2024-01', 'rule removed', '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(regionRule(), ruralBank, rows, setup)).toEqual(rows);
  });
});

/** Totals of one region and rule, as the service's SQL would give them. */
const total = (code: string, period: string, n: number, d: number, count: number): RegionTotal => ({
  ruleId: 'npl_region',
  scope: 'county',
  code,
  period,
  numerator: n,
  denominator: d,
  members: count,
});

describe(`${evaluate.name}: region-aggregate rules`, () => {
  const input = (over: Partial<EvaluationInput> = {}): EvaluationInput => ({
    rules: [regionRule()],
    catalog,
    institutions: [ruralBank],
    observations: [],
    regionTotals: [total('晋江市', '2024-01', 45, 1000, 3)],
    previous: [],
    now: day(1),
    ...over,
  });

  it('raise an alert of no institution, identified by its region, with its explanation', () => {
    const { active, transitions } = evaluate(input());
    expect(active).toEqual([
      expect.objectContaining({
        fingerprint: 'npl_region/*/county:晋江市',
        ruleId: 'npl_region',
        institution: null,
        region: { scope: 'county', code: '晋江市' },
        metric: 'npl_ratio',
        state: 'firing',
        severity: 'warning',
        value: 4.5,
        threshold: 4,
        submissionId: null,
        summary: {
          zh: '晋江市2024-01不良贷款率4.5%（3家，不良45万元/贷款1000万元）',
          en: 'Jinjiang NPL ratio 4.5% in 2024-01 (3 members, 45 / 1000)',
        },
      }),
    ]);
    expect(transitions.map((t) => t.kind)).toEqual(['firing']);
    expect(active[0]?.explanation).toMatchObject({
      quantity: { metric: 'npl_ratio', name: 'aggregate', unit: 'percent' },
      value: 4.5,
      margin: 0.5,
      periods: [{ period: '2024-01', value: 4.5, judged: null, submission_id: null }],
      detail: {
        kind: 'region_aggregate',
        region: { scope: 'county', code: '晋江市' },
        name: { zh: '晋江市', en: 'Jinjiang' },
        members: 3,
        min_members: 3,
        numerator: { metric: 'npl_balance', sum: 45 },
        denominator: { metric: 'total_loans', sum: 1000 },
        scale: 100,
        submissions: { count: 3, ids: null },
      },
    });
  });

  it('judge the regions holding an institution in scope, plus those of previous alerts', () => {
    const totals = [total('晋江市', '2024-01', 45, 1000, 3), total('安溪县', '2024-01', 60, 1000, 4)];
    const jinjiang = evaluate(input({ regionTotals: totals }));
    expect(jinjiang.active.map((a) => a.fingerprint)).toEqual(['npl_region/*/county:晋江市']);
    const both = evaluate(input({ institutions: [ruralBank, villageBank], regionTotals: totals }));
    expect(both.active.map((a) => [a.fingerprint, a.severity])).toEqual([
      ['npl_region/*/county:安溪县', 'critical'],
      ['npl_region/*/county:晋江市', 'warning'],
    ]);
    // An upload of the Jinjiang bank alone: Anxi's alert is judged too (its totals came along)…
    const improved = [total('晋江市', '2024-02', 45, 1000, 3), total('安溪县', '2024-02', 30, 1000, 4)];
    const next = evaluate(
      input({ regionTotals: [...totals, ...improved], previous: both.active, now: day(2) }),
    );
    expect(next.transitions.map((t) => [t.kind, t.alert.fingerprint])).toEqual([
      ['resolved', 'npl_region/*/county:安溪县'],
      ['updated', 'npl_region/*/county:晋江市'],
    ]);
    // … and without totals for Anxi, its alert stays: lack of data never resolves.
    const partial = evaluate(
      input({ regionTotals: improved.slice(0, 1), previous: both.active, now: day(2) }),
    );
    expect(partial.active.map((a) => a.fingerprint)).toEqual([
      'npl_region/*/county:安溪县',
      'npl_region/*/county:晋江市',
    ]);
    expect(partial.active[0]).toBe(both.active[0]);
    // A guarantee firm is not covered: it brings no region into the evaluation.
    expect(evaluate(input({ institutions: [guaranteeFirm] })).active).toEqual([]);
  });

  it('make a period with fewer than min_members members, or no loans, a gap', () => {
    expect(evaluate(input({ regionTotals: [total('晋江市', '2024-01', 45, 1000, 2)] })).active).toEqual([]);
    const before = evaluate(input());
    for (const gap of [total('晋江市', '2024-02', 90, 1000, 2), total('晋江市', '2024-02', 0, 0, 3)]) {
      const after = evaluate(
        input({ regionTotals: [total('晋江市', '2024-01', 45, 1000, 3), gap], previous: before.active }),
      );
      expect(after.transitions).toEqual([]);
      expect(after.active).toEqual(before.active);
    }
  });

  it('resolve the alerts of a scope dropped from by, and keep everything when totals are missing', () => {
    const first = evaluate(input());
    const dropped = evaluate(input({ rules: [regionRule({ by: ['city'] })], previous: first.active }));
    expect(dropped.transitions.map((t) => [t.kind, t.alert.fingerprint])).toEqual([
      ['resolved', 'npl_region/*/county:晋江市'],
    ]);
    const { regionTotals: _none, ...withoutTotals } = input({ previous: first.active, now: day(2) });
    const failed = evaluate(withoutTotals);
    expect(failed.health).toEqual([
      { ruleId: 'npl_region', ok: false, error: 'region totals were not computed for this evaluation' },
    ]);
    expect(failed.active).toEqual(first.active);
  });

  it('fail as a rule error on totals of the wrong frequency or twice for one period', () => {
    for (const bad of [
      [total('晋江市', '2024-Q1', 45, 1000, 3)],
      [total('晋江市', '2024-01', 45, 1000, 3), total('晋江市', '2024-01', 46, 1000, 3)],
    ]) {
      expect(evaluate(input({ regionTotals: bad })).health[0]).toMatchObject({ ok: false });
    }
  });

  it('resolve a regional alert whose rule became another kind, and never judge it as an institution', () => {
    const first = evaluate(input());
    const threshold = { ...regionRule(), kind: 'threshold', overrides: [] } as unknown as ReturnType<
      typeof regionRule
    >;
    const after = evaluate(input({ rules: [threshold], previous: first.active }));
    expect(after.transitions.map((t) => t.kind)).toEqual(['resolved']);
  });
});

describe(aggregateRegions.name, () => {
  const rule = regionRule({ by: ['county', 'type', 'city'] });
  const two = (code: string, period: string, n: number, d: number, id = 1) => [
    obs(code, 'npl_balance', period, n, id),
    obs(code, 'total_loans', period, d, id),
  ];

  it('sums the members that reported both components, per county, type and city', () => {
    const totals = aggregateRegions(
      [rule],
      catalog,
      [ruralBank, jinjiangBanks[0] as InstitutionRef, villageBank, guaranteeFirm],
      [
        ...two(ruralBank.code, '2024-01', 40, 1000, 1),
        ...two('QZ-RCB-11', '2024-01', 60, 500, 2),
        obs(villageBank.code, 'npl_balance', '2024-01', 9, 3), // no total loans: not a member
        ...two(guaranteeFirm.code, '2024-01', 1, 1, 4), // not a type of the rule
        // A resubmission replaces the first version's figures.
        ...two('QZ-RCB-11', '2024-01', 50, 500, 5),
      ],
    );
    expect(totals).toEqual([
      {
        ruleId: 'npl_region',
        scope: 'county',
        code: '晋江市',
        period: '2024-01',
        numerator: 90,
        denominator: 1500,
        members: 2,
        submissionIds: [1, 5],
      },
      {
        ruleId: 'npl_region',
        scope: 'type',
        code: 'rural_commercial_bank',
        period: '2024-01',
        numerator: 90,
        denominator: 1500,
        members: 2,
        submissionIds: [1, 5],
      },
      {
        ruleId: 'npl_region',
        scope: 'city',
        code: '*',
        period: '2024-01',
        numerator: 90,
        denominator: 1500,
        members: 2,
        submissionIds: [1, 5],
      },
    ]);
  });

  // The acceptance property: aggregates equal the sum of their parts.
  it('gives totals equal to the sum of their parts, for any population and values', () => {
    const counties = ['鲤城区', '晋江市', '安溪县', '德化县'];
    const types = ['rural_commercial_bank', 'village_bank', 'city_commercial_bank'];
    const scenario = fc.array(
      fc.record({
        county: fc.constantFrom(...counties),
        type: fc.constantFrom(...types),
        months: fc.uniqueArray(
          fc.record({
            month: fc.integer({ min: 1, max: 3 }),
            // Balances in 万元 as whole numbers: sums are then exact, so equality can be exact too.
            npl: fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
            loans: fc.option(fc.integer({ min: 0, max: 50_000_000 }), { nil: undefined }),
          }),
          { maxLength: 3, selector: (m) => m.month },
        ),
      }),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(scenario, (specs) => {
        const institutions: InstitutionRef[] = specs.map((s, i) => ({
          code: `B${String(i).padStart(2, '0')}`,
          name: `B${i}`,
          type: s.type,
          county: s.county,
        }));
        const observations: Observation[] = specs.flatMap((s, i) =>
          s.months.flatMap((m) => {
            const period = `2024-0${m.month}`;
            return [
              ...(m.npl === undefined
                ? []
                : [obs(`B${String(i).padStart(2, '0')}`, 'npl_balance', period, m.npl, i)]),
              ...(m.loans === undefined
                ? []
                : [obs(`B${String(i).padStart(2, '0')}`, 'total_loans', period, m.loans, i)]),
            ];
          }),
        );
        const totals = aggregateRegions([rule], catalog, institutions, observations);
        const ofScope = (scope: string, period: string) =>
          totals.filter((t) => t.scope === scope && t.period === period);
        const sum = (ts: RegionTotal[], f: (t: RegionTotal) => number) => ts.reduce((a, t) => a + f(t), 0);
        for (const period of new Set(totals.map((t) => t.period))) {
          const city = ofScope('city', period);
          expect(city).toHaveLength(1);
          for (const scope of ['county', 'type']) {
            const parts = ofScope(scope, period);
            expect(sum(parts, (t) => t.numerator)).toBe(city[0]?.numerator);
            expect(sum(parts, (t) => t.denominator)).toBe(city[0]?.denominator);
            expect(sum(parts, (t) => t.members)).toBe(city[0]?.members);
          }
        }
        // Each total is the sum over its members: those of the rule's types in its region reporting both
        // components (a city commercial bank is not of this rule's types).
        for (const t of totals) {
          const inRegion = institutions.filter(
            (i) =>
              rule.types.includes(i.type) &&
              (t.scope === 'county' ? i.county === t.code : t.scope === 'type' ? i.type === t.code : true),
          );
          const figure = (code: string, metric: string) =>
            observations.find((o) => o.institution === code && o.metric === metric && o.period === t.period)
              ?.value;
          const reporting = inRegion.filter(
            (i) => figure(i.code, 'npl_balance') !== undefined && figure(i.code, 'total_loans') !== undefined,
          );
          expect(t.members).toBe(reporting.length);
          expect(t.numerator).toBe(reporting.reduce((a, i) => a + (figure(i.code, 'npl_balance') ?? 0), 0));
          expect(t.denominator).toBe(reporting.reduce((a, i) => a + (figure(i.code, 'total_loans') ?? 0), 0));
        }
        // The same data in any order gives the same totals.
        expect(
          aggregateRegions([rule], catalog, [...institutions].reverse(), [...observations].reverse()),
        ).toEqual(totals);
      }),
    );
  });
});

describe('region-aggregate rule files', () => {
  const load = (body: string) => {
    const result = parseRuleFile(
      'r.rules.yaml',
      `groups:\n  - name: r\n    rules:\n      - id: npl_region\n        kind: region_aggregate\n        types: [rural_commercial_bank, village_bank]\n        op: ">"\n        levels: [{ severity: warning, threshold: 4 }]\n        source: x\n        summary: { zh: "{{region_name}} {{value}} {{members}}", en: "{{region}} {{numerator}} {{denominator}}" }\n${body}`,
      catalog,
    );
    return result.ok ? result.value : formatProblems(result.problems).split('\n');
  };

  it('take numerator, denominator and scale from a plain-quotient formula, or from the rule', () => {
    expect(load('        metric: npl_ratio\n        by: [county, city]\n')).toMatchObject([
      {
        by: ['county', 'city'],
        min_members: 3,
        components: { numerator: 'npl_balance', denominator: 'total_loans', scale: 100 },
      },
    ]);
    expect(
      load(
        '        metric: liquidity_ratio\n        by: [city]\n        numerator: loan_loss_reserves\n        denominator: total_loans\n        scale: 100\n',
      ),
    ).toMatchObject([
      { components: { numerator: 'loan_loss_reserves', denominator: 'total_loans', scale: 100 } },
    ]);
  });

  it('refuse a metric without a plain-quotient formula and no components, with its line', () => {
    // A sum of balances is no ratio to aggregate.
    expect(load('        metric: npl_balance\n        by: [city]\n')).toEqual([
      'r.rules.yaml:11: groups[0].rules[0].metric: the formula of npl_balance (substandard_loans + doubtful_loans + loss_loans) is not a plain quotient a / b [* k]: give numerator and denominator (and scale)',
    ]);
    expect(
      load(
        '        metric: npl_ratio\n        by: [county, county]\n        numerator: npl_balance\n        scale: 100\n',
      ),
    ).toEqual([
      'r.rules.yaml:4: groups[0].rules[0].denominator: give numerator and denominator together, or neither (the metric formula gives both)',
      'r.rules.yaml:12: groups[0].rules[0].by[1]: duplicate scope county',
    ]);
    expect(
      load(
        '        metric: npl_ratio\n        by: [region]\n        numerator: npl_balance\n        denominator: net_capital\n',
      ),
    ).toEqual([
      'r.rules.yaml:12: groups[0].rules[0].by[0]: Invalid option: expected one of "county"|"type"|"city"',
    ]);
    expect(
      load(
        '        metric: npl_ratio\n        by: [city]\n        numerator: npl_balance\n        denominator: net_capital\n',
      ),
    ).toEqual([
      'r.rules.yaml:14: groups[0].rules[0].denominator: net_capital is quarterly, npl_ratio is monthly: one period cannot hold both',
    ]);
  });

  it('read a plain quotient in its usual spellings, and nothing else', () => {
    const c = { numerator: 'a', denominator: 'b' };
    expect(quotientOf('a / b * 100.0')).toEqual({ ...c, scale: 100 });
    expect(quotientOf('(a/b)*100')).toEqual({ ...c, scale: 100 });
    expect(quotientOf('100.0 * a / b')).toEqual({ ...c, scale: 100 });
    expect(quotientOf(' a / b ')).toEqual({ ...c, scale: 1 });
    for (const other of ['a / b + c', 'a * b', '(a + c) / b * 100.0', 'a / b * c', 'a / b * 0', '(a / b']) {
      expect(quotientOf(other), other).toBeUndefined();
    }
  });

  it('write and read regions as scope:code', () => {
    expect(parseRegionKey('county:晋江市')).toEqual({ scope: 'county', code: '晋江市' });
    expect(parseRegionKey('city:*')).toEqual({ scope: 'city', code: '*' });
    for (const bad of ['city', 'city:all', 'district:x', 'county:'])
      expect(parseRegionKey(bad), bad).toBeUndefined();
  });
});
