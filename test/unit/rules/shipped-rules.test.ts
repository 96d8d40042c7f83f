import { describe, expect, it } from 'vitest';
import type { Severity } from '../../../src/alerts/alert.types.js';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { evaluate, type InstitutionRef } from '../../../src/rules/evaluate.js';
import { loadRuleSet } from '../../../src/rules/rule.loader.js';
import type { ThresholdRule } from '../../../src/rules/rule.schema.js';
import { catalog, day, guaranteeFirm, obs, quanzhou, RULES_DIR, ruralBank } from './rules.fixture.js';

const shipped = (() => {
  const loaded = loadRuleSet(RULES_DIR, catalog);
  if (!loaded.ok) throw new Error(formatProblems(loaded.problems));
  return loaded.value;
})();

const microloanFirm: InstitutionRef = {
  code: 'QZ-ML-01',
  name: '泉州小额贷款',
  type: 'microloan',
  county: '南安市',
};
const smallMicroFirm: InstitutionRef = {
  ...guaranteeFirm,
  code: 'QZ-FG-SM',
  attributes: { small_micro_focused: true },
};
const governmentFirm: InstitutionRef = {
  ...guaranteeFirm,
  code: 'QZ-FG-GOV',
  attributes: { government_backed: true },
};
const largeBank: InstitutionRef = { ...ruralBank, code: 'QZ-RCB-L', attributes: { large_bank: true } };
const at = (type: string, code: string, attributes?: Record<string, boolean>): InstitutionRef => ({
  code,
  name: code,
  type,
  county: '晋江市',
  ...(attributes ? { attributes } : {}),
});
const pawnShop = at('pawn', 'QZ-PN-01');
const newPawnShop = at('pawn', 'QZ-PN-02', { first_operating_year: true });
const lessor = at('financial_leasing', 'QZ-FL-01');
const factor = at('commercial_factoring', 'QZ-CF-01');
const privateCapital = at('private_capital', 'QZ-PC-01');

/** The severity one rule of the pack gives a single observation (`-` for no alert). */
function severityFor(
  rule: ThresholdRule,
  institution: InstitutionRef,
  period: string,
  value: number,
): Severity | '-' {
  const { active } = evaluate({
    rules: [rule],
    catalog,
    institutions: [institution],
    observations: [obs(institution.code, rule.metric, period, value)],
    previous: [],
    now: day(1),
  });
  return active[0]?.severity ?? '-';
}

describe('the shipped rule pack', () => {
  it('loads with no problem from the rules folder', () => {
    expect(loadRuleSet(RULES_DIR, catalog)).toMatchObject({ ok: true });
    expect(shipped.files.map((f) => f.slice(RULES_DIR.length + 1))).toEqual([
      'bank.rules.yaml',
      'factoring.rules.yaml',
      'guarantee.rules.yaml',
      'leasing.rules.yaml',
      'microloan.rules.yaml',
      'pawn.rules.yaml',
      'private-capital.rules.yaml',
      'quasi-financial.rules.yaml',
    ]);
    expect(shipped.rules.filter((r) => r.kind === 'threshold')).toHaveLength(41);
    expect(shipped.rules.filter((r) => r.kind === 'missing_filing')).toHaveLength(5);
  });

  it('watches every metric of REGULATION.md, for every institution type it names', () => {
    const watched = (metric: string, type: string) =>
      shipped.rules.some((r) => r.kind !== 'missing_filing' && r.metric === metric && r.types.includes(type));
    const banks = [
      'city_commercial_bank',
      'rural_commercial_bank',
      'rural_credit_cooperative',
      'village_bank',
    ];
    const required: [metric: string, types: string[]][] = [
      ['npl_ratio', banks],
      ['single_borrower_concentration', banks],
      ['single_group_concentration', banks],
      ['related_party_concentration', banks],
      ['core_tier1_ratio', banks],
      ['tier1_ratio', banks],
      ['capital_adequacy_ratio', banks],
      ['leverage_ratio', banks],
      ['provision_coverage_ratio', banks],
      ['loan_provision_ratio', banks],
      ['liquidity_ratio', banks],
      ['hqla_adequacy_ratio', banks],
      ['liquidity_matching_ratio', banks],
      ['overdue90_npl_ratio', banks],
      ['return_on_assets', banks],
      ['return_on_equity', banks],
      ['loan_to_deposit_ratio', banks],
      ['guarantee_leverage', ['financing_guarantee']],
      ['single_party_guarantee_ratio', ['financing_guarantee']],
      ['party_group_guarantee_ratio', ['financing_guarantee']],
      ['small_micro_agri_share', ['financing_guarantee']],
      ['average_guarantee_fee_rate', ['financing_guarantee']],
      ['compensation_rate', ['financing_guarantee']],
      ['non_standard_funding_leverage', ['microloan']],
      ['standardized_funding_leverage', ['microloan']],
      ['single_borrower_ratio', ['microloan']],
      ['borrower_group_ratio', ['microloan']],
      ['bank_borrowing_to_capital_ratio', ['pawn']],
      ['bank_borrowing_to_equity_ratio', ['pawn']],
      ['single_pawner_ratio', ['pawn']],
      ['property_rights_pledge_ratio', ['pawn']],
      ['real_estate_pawn_ratio', ['pawn']],
      ['net_assets_to_capital_ratio', ['pawn']],
      ['leasing_assets_share', ['financial_leasing']],
      ['risk_assets_leverage', ['financial_leasing', 'commercial_factoring']],
      ['single_lessee_concentration', ['financial_leasing']],
      ['lessee_group_concentration', ['financial_leasing']],
      ['single_debtor_concentration', ['commercial_factoring']],
      ['related_debtor_concentration', ['commercial_factoring']],
      ['registered_capital', ['private_capital']],
      ['external_funding_leverage', ['private_capital']],
    ];
    const missing = required.flatMap(([metric, types]) =>
      types.filter((t) => !watched(metric, t)).map((t) => `${metric} for ${t}`),
    );
    expect(missing).toEqual([]);
  });

  it('marks the sources REGULATION.md does not confirm with K', () => {
    const k = shipped.rules.filter((r) =>
      r.source.includes('(K: widely cited, exact article not confirmed)'),
    );
    expect(k.map((r) => r.id)).toEqual(
      expect.arrayContaining([
        'bank_overdue90_npl_ratio',
        'bank_capital_adequacy_ratio',
        'bank_tier1_ratio',
        'bank_leverage_ratio',
        'bank_hqla_adequacy_ratio',
        'bank_liquidity_matching_ratio',
        'guarantee_compensation_rate',
        'private_capital_registered_capital',
        'private_capital_external_funding_leverage',
      ]),
    );
  });

  it('cites a source for every rule and gives a reason wherever there is an early-warning level', () => {
    for (const rule of shipped.rules) {
      expect(rule.source, rule.id).not.toBe('');
      if (rule.kind === 'threshold' && rule.levels.length > 1) expect(rule.reason, rule.id).toBeDefined();
      for (const o of rule.kind === 'threshold' ? rule.overrides : [])
        expect(o.reason, rule.id).toBeDefined();
    }
  });

  it('fires a critical alert for a rural commercial bank with an NPL ratio of 6.2% for one month', () => {
    const { active, transitions } = evaluate({
      rules: shipped.rules.filter((r) => r.kind === 'threshold'),
      catalog,
      institutions: [ruralBank],
      observations: [obs(ruralBank.code, 'npl_ratio', '2024-06', 6.2, 42)],
      previous: [],
      now: day(1),
    });
    expect(active).toHaveLength(1);
    expect(active[0]).toMatchObject({
      fingerprint: 'bank_npl_ratio/QZ-RCB-01/npl_ratio',
      state: 'firing',
      severity: 'critical',
      value: 6.2,
      threshold: 5,
      submissionId: 42,
      summary: {
        zh: '晋江农商银行（QZ-RCB-01）2024-06不良贷款率为6.2%，高于严重阈值5%，已连续1期（自2024-06起）',
        en: '晋江农商银行 (QZ-RCB-01): NPL ratio 6.2% in 2024-06, above the critical threshold of 5% for 1 period(s) since 2024-06',
      },
    });
    expect(transitions.map((t) => t.kind)).toEqual(['firing']);
  });

  // Each limit itself is compliant ("not above 5%", "not below 10.5%"), so it gives a warning, not critical.
  const cases: [
    ruleId: string,
    institution: InstitutionRef,
    period: string,
    value: number,
    severity: Severity | '-',
  ][] = [
    ['bank_npl_ratio', ruralBank, '2024-06', 3.9, '-'],
    ['bank_npl_ratio', ruralBank, '2024-06', 4.1, 'warning'],
    ['bank_npl_ratio', ruralBank, '2024-06', 5, 'warning'],
    ['bank_npl_ratio', ruralBank, '2024-06', 5.01, 'critical'],
    ['bank_provision_coverage_ratio', ruralBank, '2024-06', 165, '-'],
    ['bank_provision_coverage_ratio', ruralBank, '2024-06', 150, 'warning'],
    ['bank_provision_coverage_ratio', ruralBank, '2024-06', 122, 'critical'],
    ['bank_loan_provision_ratio', ruralBank, '2024-06', 2.6, 'warning'],
    ['bank_loan_provision_ratio', ruralBank, '2024-06', 2.4, 'critical'],
    ['bank_capital_adequacy_ratio', ruralBank, '2024-Q2', 12.5, '-'],
    ['bank_capital_adequacy_ratio', ruralBank, '2024-Q2', 10.5, 'warning'],
    ['bank_capital_adequacy_ratio', ruralBank, '2024-Q2', 9.8, 'critical'],
    ['bank_tier1_ratio', ruralBank, '2024-Q2', 9, 'warning'],
    ['bank_tier1_ratio', ruralBank, '2024-Q2', 8.4, 'critical'],
    ['bank_core_tier1_ratio', ruralBank, '2024-Q2', 8, 'warning'],
    ['bank_core_tier1_ratio', ruralBank, '2024-Q2', 7.4, 'critical'],
    ['bank_liquidity_ratio', ruralBank, '2024-06', 45, '-'],
    ['bank_liquidity_ratio', ruralBank, '2024-06', 28, 'warning'],
    ['bank_liquidity_ratio', ruralBank, '2024-06', 24.9, 'critical'],
    ['guarantee_leverage', guaranteeFirm, '2024-06', 6, '-'],
    ['guarantee_leverage', guaranteeFirm, '2024-06', 9.5, 'warning'],
    ['guarantee_leverage', guaranteeFirm, '2024-06', 12, 'critical'],
    ['guarantee_leverage', smallMicroFirm, '2024-06', 12, '-'],
    ['guarantee_leverage', smallMicroFirm, '2024-06', 14, 'warning'],
    ['guarantee_leverage', smallMicroFirm, '2024-06', 15.5, 'critical'],
    ['guarantee_leverage_target', governmentFirm, '2024-06', 5, 'info'],
    ['guarantee_leverage_target', governmentFirm, '2024-06', 5.1, '-'],
    ['guarantee_leverage_target', guaranteeFirm, '2024-06', 3, '-'],
    ['guarantee_small_micro_agri_share', governmentFirm, '2024-06', 82, 'warning'],
    ['guarantee_small_micro_agri_share', guaranteeFirm, '2024-06', 50, '-'],
    ['guarantee_average_fee_rate', governmentFirm, '2024-06', 1.5, 'info'],
    ['guarantee_single_party_concentration', guaranteeFirm, '2024-06', 10.5, 'critical'],
    ['guarantee_party_group_concentration', guaranteeFirm, '2024-06', 13, 'warning'],
    ['guarantee_compensation_rate', guaranteeFirm, '2024-06', 4, 'warning'],
    ['bank_single_borrower_concentration', ruralBank, '2024-Q2', 10, 'warning'],
    ['bank_single_group_concentration', ruralBank, '2024-Q2', 15.5, 'critical'],
    ['bank_related_party_concentration', ruralBank, '2024-Q2', 35, '-'],
    ['bank_leverage_ratio', ruralBank, '2024-Q2', 4, 'warning'],
    ['bank_leverage_ratio', ruralBank, '2024-Q2', 3.9, 'critical'],
    ['bank_hqla_adequacy_ratio', ruralBank, '2024-06', 90, 'critical'],
    ['bank_hqla_adequacy_ratio', largeBank, '2024-06', 90, '-'],
    ['bank_liquidity_matching_ratio', ruralBank, '2024-06', 105, 'warning'],
    ['bank_overdue90_npl_ratio', ruralBank, '2024-06', 101, 'critical'],
    ['bank_return_on_assets', ruralBank, '2024-Q2', 0.5, 'info'],
    ['bank_return_on_assets', ruralBank, '2024-Q2', -0.1, 'warning'],
    ['bank_return_on_equity', ruralBank, '2024-Q2', 8, 'info'],
    ['microloan_non_standard_funding_leverage', microloanFirm, '2024-06', 0.5, '-'],
    ['microloan_non_standard_funding_leverage', microloanFirm, '2024-06', 0.95, 'warning'],
    ['microloan_non_standard_funding_leverage', microloanFirm, '2024-06', 1.5, 'critical'],
    ['microloan_standardized_funding_leverage', microloanFirm, '2024-06', 3.8, 'warning'],
    ['microloan_standardized_funding_leverage', microloanFirm, '2024-06', 4.5, 'critical'],
    ['microloan_single_borrower_concentration', microloanFirm, '2024-06', 12, 'critical'],
    ['microloan_borrower_group_concentration', microloanFirm, '2024-06', 13, 'warning'],
    ['pawn_bank_borrowing_to_equity', pawnShop, '2024-06', 101, 'critical'],
    ['pawn_bank_borrowing_to_equity', newPawnShop, '2024-06', 101, '-'],
    ['pawn_bank_borrowing_to_capital', newPawnShop, '2024-06', 95, 'warning'],
    ['pawn_bank_borrowing_to_capital', pawnShop, '2024-06', 150, '-'],
    ['pawn_single_pawner_concentration', pawnShop, '2024-06', 25, 'warning'],
    ['pawn_property_rights_pledge_ratio', pawnShop, '2024-06', 51, 'critical'],
    ['pawn_real_estate_pawn_ratio', pawnShop, '2024-06', 95, 'warning'],
    ['pawn_net_assets_to_capital', pawnShop, '2024-06', 90, 'warning'],
    ['pawn_net_assets_to_capital', pawnShop, '2024-06', 89, 'critical'],
    ['leasing_assets_share', lessor, '2024-06', 59, 'critical'],
    ['leasing_risk_assets_leverage', lessor, '2024-06', 7.5, 'warning'],
    ['leasing_single_lessee_concentration', lessor, '2024-06', 30, 'warning'],
    ['leasing_lessee_group_concentration', lessor, '2024-06', 51, 'critical'],
    ['factoring_risk_assets_leverage', factor, '2024-06', 9.5, 'warning'],
    ['factoring_single_debtor_concentration', factor, '2024-06', 51, 'critical'],
    ['factoring_related_debtor_concentration', factor, '2024-06', 35, 'warning'],
    ['private_capital_external_funding_leverage', privateCapital, '2024-06', 4.5, 'critical'],
  ];

  it.each(cases)('%s for %s in %s at %s gives %s', (ruleId, institution, period, value, severity) => {
    const rule = shipped.rules.find((r) => r.id === ruleId);
    if (rule?.kind !== 'threshold') throw new Error(`no shipped threshold rule ${ruleId}`);
    expect(severityFor(rule, institution, period, value)).toBe(severity);
  });
});

describe('the shipped missing-filing rules', () => {
  it('expect each institution type to file every frequency it reports, under exactly one rule', () => {
    for (const type of catalog.types.keys()) {
      const frequencies = new Set(catalog.metricsFor(type).map((m) => m.frequency));
      for (const frequency of ['monthly', 'quarterly'] as const) {
        const rules = shipped.rules.filter(
          (r) => r.kind === 'missing_filing' && r.frequency === frequency && r.types.includes(type),
        );
        expect(rules.length, `${type} ${frequency}`).toBe(frequencies.has(frequency) ? 1 : 0);
      }
    }
  });

  it('tell a bank that has filed nothing since it was registered what it owes, after each deadline', () => {
    const { active, health } = evaluate({
      rules: shipped.rules,
      catalog,
      institutions: [{ ...ruralBank, establishedAt: quanzhou('2024-03-05 10:00') }],
      observations: [],
      filings: [],
      // The bank is the whole population here: no other peers, and no region totals without balances.
      peers: { institutions: [], observations: [] },
      regionTotals: [],
      previous: [],
      timeZone: 'Asia/Shanghai',
      now: quanzhou('2024-07-16 00:00'),
    });
    expect(health.every((h) => h.ok)).toBe(true);
    expect(active.map((a) => [a.fingerprint, a.severity, a.value])).toEqual([
      ['bank_monthly_filing_missing/QZ-RCB-01/2024-04', 'warning', 62],
      ['bank_monthly_filing_missing/QZ-RCB-01/2024-05', 'warning', 31],
      ['bank_monthly_filing_missing/QZ-RCB-01/2024-06', 'warning', 1],
      ['bank_quarterly_filing_missing/QZ-RCB-01/2024-Q1', 'warning', 77],
    ]);
    expect(active[2]?.summary).toEqual({
      zh: '晋江农商银行（QZ-RCB-01）2024-06月度数据未按期报送（截止日2024-07-15），已逾期1天',
      en: '晋江农商银行 (QZ-RCB-01): monthly data for 2024-06 not filed by the 2024-07-15 deadline, 1 day(s) overdue',
    });
  });
});
