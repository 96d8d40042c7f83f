import { describe, expect, it } from 'vitest';
import { buildTemplate, latestEndedMonth, type Template } from '../../../src/ingest/template.js';
import { shippedCatalog } from '../../support/catalog.js';

const catalog = shippedCatalog();
const bank = (lang: 'zh' | 'en', period = '2024-06', institution: string | null = null) =>
  buildTemplate(catalog, { type: 'rural_commercial_bank', lang, period, institution });
const headers = (t: Template) => t.columns.map((c) => c.header);
const metricCodes = (t: Template) => t.columns.flatMap((c) => (c.kind === 'metric' ? [c.metric.code] : []));

describe(buildTemplate.name, () => {
  it('lists monthly metrics before quarterly ones, reported ones before formula ones within each', () => {
    expect(metricCodes(bank('zh'))).toEqual([
      // Monthly, reported: balances.
      'total_loans',
      'loan_loss_reserves',
      'substandard_loans',
      'doubtful_loans',
      'loss_loans',
      'overdue_90_loans',
      'total_deposits',
      'liquid_assets',
      'liquid_liabilities',
      'hqla',
      'net_short_term_outflow',
      'weighted_funding_sources',
      'weighted_funding_uses',
      // Monthly, with a formula: the NPL balance is the sum of the three bottom classes.
      'npl_balance',
      'npl_ratio',
      'provision_coverage_ratio',
      'loan_provision_ratio',
      'overdue90_npl_ratio',
      'liquidity_ratio',
      'hqla_adequacy_ratio',
      'liquidity_matching_ratio',
      'loan_to_deposit_ratio',
      // Quarterly, reported.
      'net_capital',
      'risk_weighted_assets',
      'core_tier1_capital',
      'core_tier1_deductions',
      'tier1_capital_net',
      'adjusted_exposure',
      'largest_borrower_loans',
      'largest_group_credit',
      'related_party_credit',
      'annualized_net_profit',
      'average_assets',
      'average_equity',
      // Quarterly, with a formula.
      'capital_adequacy_ratio',
      'tier1_ratio',
      'core_tier1_ratio',
      'leverage_ratio',
      'single_borrower_concentration',
      'single_group_concentration',
      'related_party_concentration',
      'return_on_assets',
      'return_on_equity',
    ]);
  });

  it('lists every metric the type reports and no other', () => {
    for (const type of catalog.types.keys()) {
      const t = buildTemplate(catalog, { type, lang: 'en', period: '2024-06', institution: null });
      expect(new Set(metricCodes(t)), type).toEqual(new Set(catalog.metricsFor(type).map((m) => m.code)));
    }
  });

  it('writes Chinese headers with the unit in full-width parentheses', () => {
    expect(headers(bank('zh'))).toEqual(
      expect.arrayContaining([
        '机构代码',
        '报告期',
        '不良贷款余额（万元）',
        '不良贷款率（%）',
        '资本充足率（%）',
      ]),
    );
    expect(headers(bank('zh')).slice(0, 2)).toEqual(['机构代码', '报告期']);
    const guarantee = buildTemplate(catalog, {
      type: 'financing_guarantee',
      lang: 'zh',
      period: '2024-06',
      institution: null,
    });
    expect(headers(guarantee)).toEqual([
      '机构代码',
      '报告期',
      '融资担保责任余额（万元）',
      '净资产（万元）',
      '最大单一被担保人融资担保责任余额（万元）',
      '最大单一被担保人及其关联方融资担保责任余额（万元）',
      '融资担保在保余额（万元）',
      '支小支农融资担保在保余额（万元）',
      '本年累计担保费收入（万元）',
      '本年累计新增融资担保额（万元）',
      '本年累计代偿额（万元）',
      '本年累计解除担保额（万元）',
      '融资担保放大倍数（倍）',
      '单一被担保人融资担保集中度（%）',
      '单一被担保人及其关联方融资担保集中度（%）',
      '支小支农担保业务占比（%）',
      '平均担保费率（%）',
      '代偿率（%）',
    ]);
  });

  it('writes English headers with the unit in ASCII parentheses', () => {
    expect(headers(bank('en')).slice(0, 3)).toEqual(['institution', 'period', 'Total loans (CNY 10k)']);
    expect(headers(bank('en'))).toContain('Non-performing loans (CNY 10k)');
    expect(headers(bank('en'))).toContain('NPL ratio (%)');
    const microloan = buildTemplate(catalog, {
      type: 'microloan',
      lang: 'en',
      period: '2024-06',
      institution: null,
    });
    expect(headers(microloan)).toEqual([
      'institution',
      'period',
      'Net assets (CNY 10k)',
      'Non-standard funding (CNY 10k)',
      'Standardised debt funding (CNY 10k)',
      'Balance of the largest borrower (CNY 10k)',
      'Balance of the largest borrower with its related parties (CNY 10k)',
      // Total funding is the sum of its two kinds: reported or left for the service to add up.
      'Total funding (CNY 10k)',
      'Funding leverage (times)',
      'Non-standard funding leverage (times)',
      'Standardised funding leverage (times)',
      'Single borrower to net assets (%)',
      'Borrower and related parties to net assets (%)',
    ]);
  });

  it('prefills the institution code and the period, leaving every metric cell empty', () => {
    const t = bank('zh', '2024-05', 'QZRCB01');
    expect(t.prefill).toEqual(['QZRCB01', '2024-05', ...metricCodes(t).map(() => '')]);
    expect(bank('zh', '2024-05').prefill[0]).toBe('');
  });

  it('expects quarterly metrics only in the last month of a quarter', () => {
    const expected = (t: Template) =>
      t.columns.flatMap((c) => (c.kind === 'metric' && c.expected ? [c.metric.code] : []));
    expect(expected(bank('zh', '2024-06'))).toContain('net_capital');
    expect(expected(bank('zh', '2024-12'))).toContain('net_capital');
    expect(expected(bank('zh', '2024-05'))).not.toContain('net_capital');
    expect(expected(bank('zh', '2024-05'))).toContain('npl_balance');
  });

  it('describes each metric in the notes: unit, frequency, range, formula, and when to fill it', () => {
    const en = bank('en', '2024-06');
    expect(en.notes.find((n) => n.code === 'npl_ratio')).toEqual({
      code: 'npl_ratio',
      name: 'NPL ratio',
      unit: '%',
      frequency: 'monthly',
      range: '0 – 100',
      formula: 'npl_balance / total_loans * 100.0',
      remark: 'May be left empty: the service then computes it from the formula',
    });
    expect(en.notes.find((n) => n.code === 'total_loans')).toMatchObject({
      range: '≥ 0',
      formula: '',
      remark: '',
    });
    expect(en.notes.find((n) => n.code === 'npl_balance')).toMatchObject({
      formula: 'substandard_loans + doubtful_loans + loss_loans',
      remark: 'May be left empty: the service then computes it from the formula',
    });
    const zh = bank('zh', '2024-06');
    expect(zh.notes.find((n) => n.code === 'capital_adequacy_ratio')).toMatchObject({
      name: '资本充足率',
      frequency: '季度',
      range: '-100 – 1000',
      remark: '可留空：留空时系统按公式计算；仅在季末月份（3、6、9、12月）填写，按所在季度存储',
    });
    expect(zh.notes.map((n) => n.code)).toEqual(metricCodes(zh));
    expect(zh.sheetNames).toEqual({ data: '数据', notes: '说明' });
  });

  it('refuses a type the catalog does not know, or a period that is not a month', () => {
    expect(() =>
      buildTemplate(catalog, { type: 'bank', lang: 'zh', period: '2024-06', institution: null }),
    ).toThrow(RangeError);
    expect(() =>
      buildTemplate(catalog, { type: 'microloan', lang: 'zh', period: '2024-Q2', institution: null }),
    ).toThrow(RangeError);
  });
});

describe(latestEndedMonth.name, () => {
  const shanghai = (iso: string) => latestEndedMonth(new Date(iso), 'Asia/Shanghai');

  it.each([
    ['the last second of June in Shanghai', '2024-06-30T15:59:59Z', '2024-05'],
    ['the first second of July in Shanghai, still June in UTC', '2024-06-30T16:00:00Z', '2024-06'],
    ['the middle of a month', '2024-06-15T04:00:00Z', '2024-05'],
    ['New Year’s Eve in Shanghai', '2024-12-31T15:59:59Z', '2024-11'],
    ['New Year in Shanghai, still 31 December in UTC', '2024-12-31T16:00:00Z', '2024-12'],
    ['January in Shanghai', '2025-01-20T00:00:00Z', '2024-12'],
    ['1 March after a leap February', '2024-02-29T16:00:00Z', '2024-02'],
  ])('at %s (%s) is %s', (_what, iso, month) => {
    expect(shanghai(iso)).toBe(month);
  });

  it('follows the configured zone, not the machine’s', () => {
    expect(latestEndedMonth(new Date('2024-06-30T16:00:00Z'), 'UTC')).toBe('2024-05');
    expect(latestEndedMonth(new Date('2024-07-01T03:00:00Z'), 'America/New_York')).toBe('2024-05');
  });
});
