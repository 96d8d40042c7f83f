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

  it('adds up the NPL balance and total funding from their parts, and derives ratios through them', () => {
    const catalog = shipped();
    expect(
      catalog.derive('village_bank', {
        substandard_loans: 30,
        doubtful_loans: 20,
        loss_loans: 10,
        total_loans: 1000,
        overdue_90_loans: 45,
      }),
    ).toEqual({ npl_balance: 60, npl_ratio: 6, overdue90_npl_ratio: 75 });
    expect(
      catalog.derive('microloan', {
        non_standard_funding: 800,
        standardized_funding: 3200,
        net_assets: 1000,
      }),
    ).toEqual({
      total_funding: 4000,
      funding_leverage: 4,
      non_standard_funding_leverage: 0.8,
      standardized_funding_leverage: 3.2,
    });
    expect(
      catalog.derive('rural_credit_cooperative', {
        core_tier1_capital: 90,
        core_tier1_deductions: 10,
        tier1_capital_net: 85,
        risk_weighted_assets: 1000,
        adjusted_exposure: 1700,
      }),
    ).toEqual({ core_tier1_ratio: 8, tier1_ratio: 8.5, leverage_ratio: 5 });
    expect(
      catalog.derive('pawn', { registered_capital: 5000, net_assets: 4400, bank_borrowings: 4400 }),
    ).toEqual({
      bank_borrowing_to_capital_ratio: 88,
      bank_borrowing_to_equity_ratio: 100,
      net_assets_to_capital_ratio: 88,
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

  const build = (text: string) => {
    const parsed = parseYaml('c.yaml', text, catalogFileSchema);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const built = Catalog.fromFile(parsed.value, 'c.yaml');
    return built.ok ? [] : built.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('refuses a formula over another frequency or over a metric some of its types do not report', () => {
    const text = file(
      [
        '  - { code: a, name: { zh: 甲, en: A }, unit: cny_10k, frequency: quarterly, types: [bank] }',
        '  - { code: b, name: { zh: 乙, en: B }, unit: cny_10k, frequency: monthly, types: [bank] }',
        '  - { code: c, name: { zh: 丙, en: C }, unit: percent, frequency: monthly, types: [bank], formula: "a / b * 100.0" }',
        '  - { code: d, name: { zh: 丁, en: D }, unit: cny_10k, frequency: monthly, types: [other] }',
        '  - { code: e, name: { zh: 戊, en: E }, unit: percent, frequency: monthly, types: [bank, other], formula: "d / b" }',
        '',
      ].join('\n'),
      '{ monthly: { days_after_period_end: 15 }, quarterly: { days_after_period_end: 30 } }',
    ).replace(
      'institution_types:\n',
      'institution_types:\n  - { code: other, category: quasi_financial, name: { zh: 其他, en: Other } }\n',
    );
    expect(build(text)).toEqual([
      'metrics[2].formula: a is quarterly, c is monthly: one period cannot hold both',
      'metrics[4].formula: other report e but not b',
      'metrics[4].formula: bank report e but not d',
    ]);
  });

  it('refuses two metrics with one name: names are upload headers', () => {
    const text = file(
      [
        '  - { code: a, name: { zh: 甲, en: Alpha }, unit: cny_10k, frequency: monthly, types: [bank] }',
        '  - { code: b, name: { zh: 甲, en: ALPHA }, unit: cny_10k, frequency: monthly, types: [bank] }',
        '',
      ].join('\n'),
    );
    expect(build(text)).toEqual([
      'metrics[1].name.zh: name 甲 is already the name of a',
      'metrics[1].name.en: name alpha is already the name of a',
    ]);
  });

  it('refuses attributes declared twice or for unknown types', () => {
    const text = file(
      '  - { code: a, name: { zh: 甲, en: A }, unit: cny_10k, frequency: monthly, types: [bank] }\n',
    ).replace(
      'filing_deadlines:',
      [
        'institution_attributes:',
        '  - { code: x, name: { zh: 甲, en: X }, types: [bank] }',
        '  - { code: x, name: { zh: 乙, en: Y }, types: [bank, bnak] }',
        'filing_deadlines:',
      ].join('\n'),
    );
    expect(build(text)).toEqual([
      'institution_attributes[1].code: duplicate code x',
      'institution_attributes[1].types[1]: unknown institution type bnak',
    ]);
  });
});

describe('institution attributes', () => {
  it('are declared in the shipped catalog, booleans of the types they apply to', () => {
    const catalog = shipped();
    expect([...catalog.attributes.values()].map((a) => [a.code, a.types, a.value])).toEqual([
      ['government_backed', ['financing_guarantee'], 'boolean'],
      ['small_micro_focused', ['financing_guarantee'], 'boolean'],
      [
        'large_bank',
        ['city_commercial_bank', 'rural_commercial_bank', 'rural_credit_cooperative', 'village_bank'],
        'boolean',
      ],
      ['first_operating_year', ['pawn'], 'boolean'],
    ]);
    expect(catalog.carries('financing_guarantee', 'government_backed')).toBe(true);
    expect(catalog.carries('microloan', 'government_backed')).toBe(false);
    expect(catalog.carries('financing_guarantee', 'no_such_attribute')).toBe(false);
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
