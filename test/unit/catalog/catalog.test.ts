import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/catalog/catalog.js';
import { catalogFileSchema } from '../../../src/catalog/catalog.schema.js';
import { parseYaml } from '../../../src/config/yaml-file.js';

function shipped(): Catalog {
  const loaded = Catalog.load('rules');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.value;
}

describe('the shipped catalog', () => {
  it('holds every institution type and metric code of the product brief', () => {
    const catalog = shipped();
    expect([...catalog.types.keys()]).toEqual([
      'city_commercial_bank',
      'rural_commercial_bank',
      'rural_credit_cooperative',
      'village_bank',
      'financing_guarantee',
      'microloan',
      'pawn',
      'financial_leasing',
      'commercial_factoring',
      'private_capital',
    ]);
    for (const code of [
      'npl_ratio',
      'npl_balance',
      'total_loans',
      'loan_loss_reserves',
      'provision_coverage_ratio',
      'loan_provision_ratio',
      'capital_adequacy_ratio',
      'tier1_ratio',
      'core_tier1_ratio',
      'liquidity_ratio',
      'net_capital',
      'risk_weighted_assets',
      'guarantee_leverage',
      'guarantee_liability',
      'net_assets',
      'funding_leverage',
    ]) {
      expect(catalog.metrics.has(code), code).toBe(true);
    }
  });

  it('derives ratios from raw balances, exactly as the formulas say', () => {
    const catalog = shipped();
    expect(
      catalog.derive('rural_commercial_bank', { npl_balance: 62, total_loans: 1000, loan_loss_reserves: 93 }),
    ).toEqual({
      npl_ratio: 6.2,
      provision_coverage_ratio: 150,
      loan_provision_ratio: 9.3,
    });
    expect(
      catalog.derive('financing_guarantee', { guarantee_liability: 120_000, net_assets: 10_000 }),
    ).toEqual({ guarantee_leverage: 12 });
    expect(catalog.derive('village_bank', { net_capital: 950, risk_weighted_assets: 10_000 })).toEqual({
      capital_adequacy_ratio: 9.5,
    });
  });

  it('keeps a reported ratio, and derives nothing from a zero denominator or a missing input', () => {
    const catalog = shipped();
    expect(catalog.derive('village_bank', { npl_balance: 62, total_loans: 1000, npl_ratio: 6 })).toEqual({});
    expect(catalog.derive('village_bank', { npl_balance: 0, loan_loss_reserves: 10 })).toEqual({});
    expect(catalog.derive('village_bank', { npl_balance: 5 })).toEqual({});
  });

  it('resolves metrics by their Chinese and English names', () => {
    const catalog = shipped();
    expect(catalog.metricsByName.get('不良贷款率')?.code).toBe('npl_ratio');
    expect(catalog.metricsByName.get('npl ratio')?.code).toBe('npl_ratio');
  });
});

describe('catalog problems', () => {
  const file = (metrics: string, deadlines = '{ monthly: { days_after_period_end: 15 } }') =>
    `institution_types:\n  - { code: bank, category: bank, name: { zh: 银行, en: Bank } }\ncounties:\n  - { code: 鲤城区, en: Licheng }\nfiling_deadlines: ${deadlines}\nmetrics:\n${metrics}`;

  it('reports schema problems with their line', () => {
    const parsed = parseYaml(
      'c.yaml',
      file('  - { code: a, name: { zh: 甲, en: A }, unit: furlongs, frequency: monthly, types: [bank] }\n'),
      catalogFileSchema,
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toEqual([
      expect.objectContaining({ file: 'c.yaml', path: 'metrics[0].unit', line: 7 }),
    ]);
  });

  it('reports unknown types, bad formulas and cycles in one pass', () => {
    const text = file(
      [
        '  - { code: a, name: { zh: 甲, en: A }, unit: percent, frequency: monthly, types: [bank, nope] }',
        '  - { code: b, name: { zh: 乙, en: B }, unit: percent, frequency: monthly, types: [bank], formula: "a +" }',
        '  - { code: c, name: { zh: 丙, en: C }, unit: percent, frequency: monthly, types: [bank], formula: "d * 1.0" }',
        '  - { code: d, name: { zh: 丁, en: D }, unit: percent, frequency: monthly, types: [bank], formula: "c * 1.0" }',
        '',
      ].join('\n'),
    );
    const parsed = parseYaml('c.yaml', text, catalogFileSchema);
    if (!parsed.ok) throw new Error('schema should pass');
    const built = Catalog.fromFile(parsed.value, 'c.yaml');
    expect(built.ok).toBe(false);
    if (built.ok) return;
    expect(built.problems.map((p) => p.path)).toEqual(['metrics[0].types', 'metrics[1].formula', 'metrics']);
    expect(built.problems[0]?.message).toBe('unknown institution type nope');
  });
});

describe('filing deadlines', () => {
  const file = (deadlines: string) =>
    [
      'institution_types:',
      '  - { code: bank, category: bank, name: { zh: 银行, en: Bank } }',
      'counties:',
      '  - { code: 鲤城区, en: Licheng }',
      `filing_deadlines: ${deadlines}`,
      'metrics:',
      '  - { code: a, name: { zh: 甲, en: A }, unit: percent, frequency: monthly, types: [bank] }',
      '  - { code: b, name: { zh: 乙, en: B }, unit: percent, frequency: quarterly, types: [bank] }',
      '',
    ].join('\n');
  const build = (deadlines: string) => {
    const parsed = parseYaml('c.yaml', file(deadlines), catalogFileSchema);
    return parsed.ok ? Catalog.fromFile(parsed.value, 'c.yaml') : parsed;
  };

  it('are read per frequency', () => {
    expect(shipped().filingDeadlines).toEqual({
      monthly: { daysAfterPeriodEnd: 15 },
      quarterly: { daysAfterPeriodEnd: 30 },
    });
  });

  it('must be given for every frequency a metric uses', () => {
    const built = build('{ monthly: { days_after_period_end: 15 } }');
    expect(built.ok ? [] : built.problems).toEqual([
      {
        file: 'c.yaml',
        path: 'filing_deadlines.quarterly',
        message: 'missing: quarterly metrics (b) need a filing deadline',
      },
    ]);
  });

  it('refuses unknown frequencies, negative or fractional days, and a missing key', () => {
    const messages = (deadlines: string) => {
      const built = build(deadlines);
      return built.ok ? [] : built.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(
      messages(
        '{ monthly: { days_after_period_end: -1 }, quarterly: { days_after_period_end: 1.5 }, yearly: {} }',
      ),
    ).toEqual([
      'filing_deadlines.monthly.days_after_period_end: Too small: expected number to be >=0',
      'filing_deadlines.quarterly.days_after_period_end: Invalid input: expected int, received number',
      'filing_deadlines: Unrecognized key: "yearly"',
    ]);
    const parsed = parseYaml('c.yaml', file('{}').replace('filing_deadlines: {}\n', ''), catalogFileSchema);
    expect(parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'filing_deadlines: Invalid input: expected object, received undefined',
    ]);
  });
});
