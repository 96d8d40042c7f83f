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
      'guarantee.rules.yaml',
      'microloan.rules.yaml',
      'quasi-financial.rules.yaml',
    ]);
    expect(shipped.rules.filter((r) => r.kind === 'threshold')).toHaveLength(9);
    expect(shipped.rules.filter((r) => r.kind === 'missing_filing')).toHaveLength(5);
  });

  it('cites a source for every rule and gives a reason wherever there is an early-warning level', () => {
    for (const rule of shipped.rules) {
      expect(rule.source, rule.id).not.toBe('');
      if (rule.kind === 'threshold' && rule.levels.length > 1) expect(rule.reason, rule.id).toBeDefined();
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
    ['microloan_funding_leverage', microloanFirm, '2024-06', 3, '-'],
    ['microloan_funding_leverage', microloanFirm, '2024-06', 4.8, 'warning'],
    ['microloan_funding_leverage', microloanFirm, '2024-06', 5.2, 'critical'],
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
