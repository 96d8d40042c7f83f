import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/catalog/catalog.js';
import { parsePeriod } from '../../../src/catalog/period.js';
import { buildDemoData, DEMO_BREACHES, type DemoData } from '../../../src/demo/demo.data.js';

const RULES_DIR = fileURLToPath(new URL('../../../rules', import.meta.url));
const END = '2025-06';

let catalog: Catalog;
beforeAll(() => {
  const loaded = Catalog.load(RULES_DIR);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  catalog = loaded.value;
});

/** Raw values by institution, then period, then metric. */
function index(data: DemoData): Map<string, Map<string, Record<string, number>>> {
  const byInstitution = new Map<string, Map<string, Record<string, number>>>();
  for (const o of data.observations) {
    const periods = byInstitution.get(o.institution) ?? new Map<string, Record<string, number>>();
    byInstitution.set(o.institution, periods);
    periods.set(o.period, { ...periods.get(o.period), [o.metric]: o.value });
  }
  return byInstitution;
}

type Values = Record<string, number>;
/** `a / b` (times `scale`), or undefined when either is not there. */
const over = (a: number | undefined, b: number | undefined, scale = 100) =>
  a === undefined || b === undefined ? undefined : (a / b) * scale;
const npl = (v: Values) =>
  v.substandard_loans === undefined || v.doubtful_loans === undefined || v.loss_loans === undefined
    ? undefined
    : v.substandard_loans + v.doubtful_loans + v.loss_loans;

/** Ratios computed here from the raw components, independently of the catalog's formulas. */
const RATIOS: Record<string, (v: Values) => number | undefined> = {
  npl_ratio: (v) => over(npl(v), v.total_loans),
  provision_coverage_ratio: (v) => over(v.loan_loss_reserves, npl(v)),
  overdue90_npl_ratio: (v) => over(v.overdue_90_loans, npl(v)),
  liquidity_ratio: (v) => over(v.liquid_assets, v.liquid_liabilities),
  hqla_adequacy_ratio: (v) => over(v.hqla, v.net_short_term_outflow),
  liquidity_matching_ratio: (v) => over(v.weighted_funding_sources, v.weighted_funding_uses),
  capital_adequacy_ratio: (v) => over(v.net_capital, v.risk_weighted_assets),
  tier1_ratio: (v) => over(v.tier1_capital_net, v.risk_weighted_assets),
  core_tier1_ratio: (v) =>
    over(
      v.core_tier1_capital === undefined || v.core_tier1_deductions === undefined
        ? undefined
        : v.core_tier1_capital - v.core_tier1_deductions,
      v.risk_weighted_assets,
    ),
  leverage_ratio: (v) => over(v.tier1_capital_net, v.adjusted_exposure),
  single_borrower_concentration: (v) => over(v.largest_borrower_loans, v.net_capital),
  single_group_concentration: (v) => over(v.largest_group_credit, v.net_capital),
  related_party_concentration: (v) => over(v.related_party_credit, v.net_capital),
  return_on_assets: (v) => over(v.annualized_net_profit, v.average_assets),
  guarantee_leverage: (v) => over(v.guarantee_liability, v.net_assets, 1),
  single_party_guarantee_ratio: (v) => over(v.largest_party_guarantee, v.net_assets),
  party_group_guarantee_ratio: (v) => over(v.largest_party_group_guarantee, v.net_assets),
  small_micro_agri_share: (v) => over(v.small_micro_agri_guarantee_balance, v.guarantee_balance),
  compensation_rate: (v) => over(v.compensation_paid, v.guarantees_released),
  non_standard_funding_leverage: (v) => over(v.non_standard_funding, v.net_assets, 1),
  standardized_funding_leverage: (v) => over(v.standardized_funding, v.net_assets, 1),
  single_borrower_ratio: (v) => over(v.largest_borrower_balance, v.net_assets),
  borrower_group_ratio: (v) => over(v.largest_borrower_group_balance, v.net_assets),
  bank_borrowing_to_equity_ratio: (v) => over(v.bank_borrowings, v.net_assets),
  single_pawner_ratio: (v) => over(v.largest_pawner_balance, v.registered_capital),
  property_rights_pledge_ratio: (v) => over(v.property_rights_pledge_balance, v.registered_capital),
  real_estate_pawn_ratio: (v) => over(v.real_estate_pawn_balance, v.registered_capital),
  net_assets_to_capital_ratio: (v) => over(v.net_assets, v.registered_capital),
  leasing_assets_share: (v) => over(v.leasing_assets, v.total_assets),
  risk_assets_leverage: (v) => over(v.risk_assets, v.net_assets, 1),
  single_lessee_concentration: (v) => over(v.largest_lessee_balance, v.net_assets),
  lessee_group_concentration: (v) => over(v.largest_lessee_group_balance, v.net_assets),
  single_debtor_concentration: (v) => over(v.largest_debtor_receivables, v.risk_assets),
  related_debtor_concentration: (v) => over(v.related_party_receivables, v.risk_assets),
  external_funding_leverage: (v) => over(v.external_funding, v.original_net_capital, 1),
};

interface Limit {
  readonly metric: string;
  readonly limit: number;
  readonly direction: 'max' | 'min';
  /** Whom the limit applies to, by type and attributes; everyone reporting the metric when absent. */
  readonly applies?: (type: string, attributes: Readonly<Record<string, boolean>>) => boolean;
}
const fg = (t: string) => t === 'financing_guarantee';
/** The regulatory limits of REGULATION.md (the pack's critical levels) the demo respects unless it says otherwise. */
const LIMITS: Limit[] = [
  { metric: 'npl_ratio', limit: 5, direction: 'max' },
  { metric: 'provision_coverage_ratio', limit: 150, direction: 'min' },
  { metric: 'overdue90_npl_ratio', limit: 100, direction: 'max' },
  { metric: 'liquidity_ratio', limit: 25, direction: 'min' },
  { metric: 'hqla_adequacy_ratio', limit: 100, direction: 'min' },
  { metric: 'liquidity_matching_ratio', limit: 100, direction: 'min' },
  { metric: 'capital_adequacy_ratio', limit: 10.5, direction: 'min' },
  { metric: 'tier1_ratio', limit: 8.5, direction: 'min' },
  { metric: 'core_tier1_ratio', limit: 7.5, direction: 'min' },
  { metric: 'leverage_ratio', limit: 4, direction: 'min' },
  { metric: 'single_borrower_concentration', limit: 10, direction: 'max' },
  { metric: 'single_group_concentration', limit: 15, direction: 'max' },
  { metric: 'related_party_concentration', limit: 50, direction: 'max' },
  { metric: 'return_on_assets', limit: 0, direction: 'min' },
  {
    metric: 'guarantee_leverage',
    limit: 10,
    direction: 'max',
    applies: (t, a) => fg(t) && !a.small_micro_focused,
  },
  {
    metric: 'guarantee_leverage',
    limit: 15,
    direction: 'max',
    applies: (t, a) => fg(t) && !!a.small_micro_focused,
  },
  { metric: 'single_party_guarantee_ratio', limit: 10, direction: 'max' },
  { metric: 'party_group_guarantee_ratio', limit: 15, direction: 'max' },
  { metric: 'small_micro_agri_share', limit: 80, direction: 'min', applies: (_, a) => !!a.government_backed },
  { metric: 'compensation_rate', limit: 5, direction: 'max' },
  { metric: 'non_standard_funding_leverage', limit: 1, direction: 'max' },
  { metric: 'standardized_funding_leverage', limit: 4, direction: 'max' },
  { metric: 'single_borrower_ratio', limit: 10, direction: 'max' },
  { metric: 'borrower_group_ratio', limit: 15, direction: 'max' },
  { metric: 'bank_borrowing_to_equity_ratio', limit: 100, direction: 'max' },
  { metric: 'single_pawner_ratio', limit: 25, direction: 'max' },
  { metric: 'property_rights_pledge_ratio', limit: 50, direction: 'max' },
  { metric: 'real_estate_pawn_ratio', limit: 100, direction: 'max' },
  { metric: 'net_assets_to_capital_ratio', limit: 90, direction: 'min' },
  { metric: 'leasing_assets_share', limit: 60, direction: 'min' },
  { metric: 'risk_assets_leverage', limit: 8, direction: 'max', applies: (t) => t === 'financial_leasing' },
  {
    metric: 'risk_assets_leverage',
    limit: 10,
    direction: 'max',
    applies: (t) => t === 'commercial_factoring',
  },
  { metric: 'single_lessee_concentration', limit: 30, direction: 'max' },
  { metric: 'lessee_group_concentration', limit: 50, direction: 'max' },
  { metric: 'single_debtor_concentration', limit: 50, direction: 'max' },
  { metric: 'related_debtor_concentration', limit: 40, direction: 'max' },
  { metric: 'external_funding_leverage', limit: 4, direction: 'max' },
  { metric: 'registered_capital', limit: 1000, direction: 'min', applies: (t) => t === 'private_capital' },
  { metric: 'registered_capital', limit: 10000, direction: 'max', applies: (t) => t === 'private_capital' },
];

function ratioOrValue(values: Values, metric: string): number | undefined {
  const ratio = RATIOS[metric];
  return ratio ? ratio(values) : values[metric];
}

const breaches = (value: number, l: { limit: number; direction: 'max' | 'min' }) =>
  l.direction === 'max' ? value > l.limit : value < l.limit;

/** GB 32100 check, written out again here so the generator is checked against an independent copy. */
function isValidCreditCode(code: string): boolean {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += chars.indexOf(code[i] ?? '') * (3 ** i % 31);
  return chars[(31 - (sum % 31)) % 31] === code[17];
}

function lastQuarter(data: DemoData): string {
  return data.observations
    .map((o) => o.period)
    .filter((p) => p.includes('Q'))
    .sort()
    .at(-1) as string;
}

describe(buildDemoData.name, () => {
  it('returns the same data for the same input', () => {
    expect(buildDemoData(END, 24)).toEqual(buildDemoData(END, 24));
    expect(buildDemoData(END)).toEqual(buildDemoData(END, 24));
  });

  it('gives the same figures for a period whatever the window length', () => {
    const long = buildDemoData(END, 24).observations;
    const short = buildDemoData(END, 12).observations;
    const key = (o: (typeof long)[number]) => `${o.institution} ${o.period} ${o.metric}`;
    const longByKey = new Map(long.map((o) => [key(o), o.value]));
    expect(short.length).toBeGreaterThan(0);
    for (const o of short) expect(longByKey.get(key(o)), key(o)).toBe(o.value);
  });

  it('differs for another end period', () => {
    expect(buildDemoData('2025-07').observations).not.toEqual(buildDemoData(END).observations);
  });

  it('rejects an end period that is not a month and a window out of range', () => {
    expect(() => buildDemoData('2025-Q2')).toThrow(RangeError);
    expect(() => buildDemoData('2025-13')).toThrow(RangeError);
    expect(() => buildDemoData('2025-6')).toThrow(RangeError);
    expect(() => buildDemoData(END, 0)).toThrow(RangeError);
    expect(() => buildDemoData(END, 1.5)).toThrow(RangeError);
  });

  it('describes a Quanzhou-like sample of known types and counties', () => {
    const { institutions } = buildDemoData(END);
    const count = (type: string) => institutions.filter((i) => i.type === type).length;
    expect(count('city_commercial_bank')).toBe(1);
    expect(count('rural_commercial_bank')).toBeGreaterThanOrEqual(6);
    expect(count('rural_credit_cooperative')).toBeGreaterThanOrEqual(2);
    expect(count('village_bank')).toBe(2);
    expect(count('financing_guarantee')).toBe(4);
    expect(count('microloan')).toBe(4);
    expect(count('pawn')).toBe(2);
    expect(count('financial_leasing')).toBe(1);
    expect(count('commercial_factoring')).toBe(1);
    expect(count('private_capital')).toBe(1);
    expect(institutions.filter((i) => i.attributes?.government_backed)).toHaveLength(1);
    expect(institutions.filter((i) => i.attributes?.small_micro_focused)).toHaveLength(1);
    expect(new Set(institutions.map((i) => i.county)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(institutions.map((i) => i.code)).size).toBe(institutions.length);
    expect(new Set(institutions.map((i) => i.credit_code)).size).toBe(institutions.length);
    for (const i of institutions) {
      expect(catalog.types.has(i.type), i.code).toBe(true);
      expect(catalog.counties.has(i.county), i.code).toBe(true);
      expect(i.code).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
      expect(i.name).toMatch(/\(演示\)$/);
      expect(isValidCreditCode(i.credit_code ?? ''), `${i.code} ${i.credit_code}`).toBe(true);
    }
  });

  it('reports only raw catalog metrics of the institution type, at their frequency, within range', () => {
    const data = buildDemoData(END);
    const types = new Map(data.institutions.map((i) => [i.code, i.type]));
    for (const o of data.observations) {
      const where = `${o.institution} ${o.period} ${o.metric}=${o.value}`;
      const metric = catalog.metrics.get(o.metric);
      expect(metric, where).toBeDefined();
      expect(metric?.formula, where).toBeUndefined();
      expect(catalog.reports(types.get(o.institution) ?? '', o.metric), where).toBe(true);
      expect(parsePeriod(o.period)?.frequency, where).toBe(metric?.frequency);
      expect(Number.isFinite(o.value), where).toBe(true);
      expect(o.value, where).toBeGreaterThanOrEqual(metric?.range.min ?? Number.NEGATIVE_INFINITY);
      expect(o.value, where).toBeLessThanOrEqual(metric?.range.max ?? Number.POSITIVE_INFINITY);
    }
  });

  it('reports every raw metric of each institution for every period of the window', () => {
    const data = buildDemoData(END, 24);
    const byInstitution = index(data);
    const months = [
      ...new Set(data.observations.map((o) => o.period).filter((p) => !p.includes('Q'))),
    ].sort();
    const quarters = [
      ...new Set(data.observations.map((o) => o.period).filter((p) => p.includes('Q'))),
    ].sort();
    expect(months).toHaveLength(24);
    expect(months[0]).toBe('2023-07');
    expect(months.at(-1)).toBe(END);
    expect(quarters).toEqual([
      '2023-Q3',
      '2023-Q4',
      '2024-Q1',
      '2024-Q2',
      '2024-Q3',
      '2024-Q4',
      '2025-Q1',
      '2025-Q2',
    ]);
    for (const i of data.institutions) {
      const raw = catalog.metricsFor(i.type).filter((m) => !m.formula);
      const expected = (frequency: string) =>
        raw
          .filter((m) => m.frequency === frequency)
          .map((m) => m.code)
          .sort();
      const periods = byInstitution.get(i.code);
      for (const p of months)
        expect(Object.keys(periods?.get(p) ?? {}).sort(), `${i.code} ${p}`).toEqual(expected('monthly'));
      for (const q of quarters) {
        const want = expected('quarterly');
        expect(Object.keys(periods?.get(q) ?? {}).sort(), `${i.code} ${q}`).toEqual(want);
      }
    }
  });

  it('reports no quarter that has not ended by the end month', () => {
    const quarters = new Set(
      buildDemoData('2025-05', 4)
        .observations.map((o) => o.period)
        .filter((p) => p.includes('Q')),
    );
    expect([...quarters]).toEqual(['2025-Q1']);
    expect(buildDemoData('2025-05', 1).observations.some((o) => o.period.includes('Q'))).toBe(false);
  });

  it('keeps capital ratios consistent: core tier-1 ≤ tier-1 ≤ capital adequacy', () => {
    for (const periods of index(buildDemoData(END)).values()) {
      for (const [period, v] of periods) {
        const tier1 = ratioOrValue(v, 'tier1_ratio');
        if (tier1 === undefined) continue;
        const car = ratioOrValue(v, 'capital_adequacy_ratio') ?? Number.NaN;
        expect(ratioOrValue(v, 'core_tier1_ratio'), period).toBeLessThanOrEqual(tier1);
        expect(tier1, period).toBeLessThan(car);
      }
    }
  });

  it('passes every consistency check of the catalog, as an upload must, in every period', () => {
    const data = buildDemoData(END);
    const types = new Map(data.institutions.map((i) => [i.code, i.type]));
    const failed: string[] = [];
    for (const [institution, periods] of index(data)) {
      for (const [period, reported] of periods) {
        const values = { ...reported, ...catalog.derive(types.get(institution) ?? '', reported) };
        for (const check of catalog.validation.checks) {
          if (check.inputs.every((i) => values[i] !== undefined) && !check.holds(values))
            failed.push(`${institution} ${period} ${check.id}`);
        }
      }
    }
    expect(failed).toEqual([]);
  });

  it('matches the sector reference figures city-wide in the final period', () => {
    const data = buildDemoData(END);
    const sum = (period: string, metric: string) =>
      data.observations
        .filter((o) => o.period === period && o.metric === metric)
        .reduce((s, o) => s + o.value, 0);
    // Exact regional aggregates: sums of numerators over sums of denominators.
    const nplBalance = sum(END, 'substandard_loans') + sum(END, 'doubtful_loans') + sum(END, 'loss_loans');
    const npl = (nplBalance / sum(END, 'total_loans')) * 100;
    const coverage = (sum(END, 'loan_loss_reserves') / nplBalance) * 100;
    const car =
      (sum(lastQuarter(data), 'net_capital') / sum(lastQuarter(data), 'risk_weighted_assets')) * 100;
    expect(npl).toBeGreaterThanOrEqual(1.4);
    expect(npl).toBeLessThanOrEqual(2);
    expect(coverage).toBeGreaterThanOrEqual(180);
    expect(coverage).toBeLessThanOrEqual(210);
    expect(car).toBeGreaterThanOrEqual(13);
    expect(car).toBeLessThanOrEqual(15);
  });

  it('drifts the designated institutions into breach in the final period, from inside the limit a year before', () => {
    const data = buildDemoData(END);
    const byInstitution = index(data);
    const quarter = lastQuarter(data);
    expect(DEMO_BREACHES.map((b) => b.metric)).toEqual(
      expect.arrayContaining([
        'npl_ratio',
        'provision_coverage_ratio',
        'capital_adequacy_ratio',
        'guarantee_leverage',
        'standardized_funding_leverage',
      ]),
    );
    for (const b of DEMO_BREACHES) {
      const quarterly = catalog.metrics.get(b.metric)?.frequency === 'quarterly';
      const final = byInstitution.get(b.institution)?.get(quarterly ? quarter : END) ?? {};
      const yearBefore = byInstitution.get(b.institution)?.get(quarterly ? '2024-Q2' : '2024-06') ?? {};
      const value = ratioOrValue(final, b.metric) ?? Number.NaN;
      expect(breaches(value, b), `${b.institution} ${b.metric}=${value}`).toBe(true);
      expect(
        breaches(ratioOrValue(yearBefore, b.metric) ?? Number.NaN, b),
        `${b.institution} a year before`,
      ).toBe(false);
      // The service derives the same value through the catalog's formula.
      const type = data.institutions.find((i) => i.code === b.institution)?.type ?? '';
      expect(catalog.derive(type, final)[b.metric]).toBeCloseTo(value, 9);
    }
  });

  it('keeps every other institution and metric inside the limits in every period', () => {
    const data = buildDemoData(END);
    const designed = new Set(DEMO_BREACHES.map((b) => `${b.institution} ${b.metric}`));
    const byCode = new Map(data.institutions.map((i) => [i.code, i]));
    const found: string[] = [];
    for (const [institution, periods] of index(data)) {
      const { type, attributes = {} } = byCode.get(institution) ?? { type: '' };
      const limits = LIMITS.filter(
        (l) => catalog.reports(type, l.metric) && (l.applies?.(type, attributes) ?? true),
      );
      for (const [period, values] of periods) {
        for (const l of limits) {
          const value = ratioOrValue(values, l.metric);
          if (value === undefined || designed.has(`${institution} ${l.metric}`)) continue;
          if (breaches(value, l)) found.push(`${institution} ${period} ${l.metric}=${value}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('respects catalog ranges and breaches by design for any end month and window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2015, max: 2035 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 36 }),
        (year, month, months) => {
          const end = `${year}-${String(month).padStart(2, '0')}`;
          const data = buildDemoData(end, months);
          for (const o of data.observations) {
            const range = catalog.metrics.get(o.metric)?.range ?? {};
            if (!(o.value >= (range.min ?? -Infinity) && o.value <= (range.max ?? Infinity))) return false;
          }
          const final = index(data);
          return DEMO_BREACHES.filter((b) => catalog.metrics.get(b.metric)?.frequency === 'monthly').every(
            (b) =>
              breaches(ratioOrValue(final.get(b.institution)?.get(end) ?? {}, b.metric) ?? Number.NaN, b),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
