import { describe, expect, it } from 'vitest';
import { checkConsistency, checkJumps } from '../../../src/ingest/consistency.js';
import type { Locator, SubmissionDraft } from '../../../src/ingest/observation.types.js';
import { ProblemLog } from '../../../src/ingest/problem.log.js';
import { shippedCatalog } from '../../support/catalog.js';

const catalog = shippedCatalog();
const draft = (period: string, values: Record<string, number>): SubmissionDraft => ({
  institution: 'B1',
  type: 'rural_commercial_bank',
  period,
  metrics: Object.keys(values),
  numbers: Object.values(values),
  locations: Object.keys(values).map((_, i) => i + 2),
});
// Test drafts encode a value's location as its row; the column is 3 and the field the metric.
const locate: Locator = (d, metric) => {
  const row = d.locations[d.metrics.indexOf(metric)];
  return row === undefined ? undefined : { row, column: 3, field: metric };
};
const run = (...drafts: SubmissionDraft[]) => {
  const problems = new ProblemLog();
  checkConsistency(drafts, catalog, problems, locate);
  return problems;
};

describe(checkConsistency.name, () => {
  it('accepts a reported ratio that agrees with its components within the rounding tolerance', () => {
    const p = run(draft('2024-06', { npl_balance: 62, total_loans: 1000, npl_ratio: 6.2 }));
    expect(p.total('error')).toBe(0);
    expect(run(draft('2024-06', { npl_balance: 1, total_loans: 3, npl_ratio: 33.33 })).total('error')).toBe(
      0,
    );
  });

  it('rejects a reported ratio that disagrees with its components, at the ratio cell', () => {
    const p = run(draft('2024-06', { npl_balance: 62, total_loans: 1000, npl_ratio: 2.6 }));
    expect(p.list('error')).toEqual([
      expect.objectContaining({
        code: 'ratio_mismatch',
        check: 'npl_ratio',
        row: 4,
        field: 'npl_ratio',
        value: 2.6,
      }),
    ]);
  });

  it('checks core tier-1 ≤ tier-1 ≤ CAR, using a CAR derived from its components', () => {
    const p = run(
      draft('2024-Q2', {
        core_tier1_ratio: 11,
        tier1_ratio: 10,
        net_capital: 95,
        risk_weighted_assets: 1000,
      }),
    );
    expect(p.list('error').map((e) => e.check)).toEqual(['core_tier1_within_tier1', 'tier1_within_car']);
    expect(
      run(draft('2024-Q2', { core_tier1_ratio: 9, tier1_ratio: 10, capital_adequacy_ratio: 12 })).total(
        'error',
      ),
    ).toBe(0);
  });

  it('rejects NPL above total loans, and warns (without rejecting) on reserves above loans', () => {
    expect(run(draft('2024-06', { npl_balance: 2000, total_loans: 1000 })).list('error')[0]).toMatchObject({
      code: 'inconsistent_values',
      check: 'npl_within_loans',
    });
    const p = run(draft('2024-06', { loan_loss_reserves: 2000, total_loans: 1000 }));
    expect([p.total('error'), p.list('warning')[0]?.check]).toEqual([0, 'reserves_within_loans']);
  });

  it('skips a check when a metric it names is absent', () => {
    expect(run(draft('2024-06', { npl_balance: 2000 })).total('error')).toBe(0);
  });
});

describe(checkJumps.name, () => {
  const previous = new Map([
    ['B1\u0000total_loans', { period: '2024-05', value: 1000 }],
    ['B1\u0000npl_balance', { period: '2024-05', value: 10 }],
    ['B1\u0000liquidity_ratio', { period: '2024-05', value: 0 }],
  ]);
  it('warns when a value moves beyond the jump factor either way, never on a move from zero', () => {
    const problems = new ProblemLog();
    checkJumps(
      [draft('2024-06', { total_loans: 5001, npl_balance: 1.9, liquidity_ratio: 40 })],
      previous,
      catalog,
      problems,
      locate,
    );
    expect(problems.list('warning').map((w) => [w.code, w.field])).toEqual([
      ['jump_from_previous', 'total_loans'],
      ['jump_from_previous', 'npl_balance'],
    ]);
    const calm = new ProblemLog();
    checkJumps([draft('2024-06', { total_loans: 4999, npl_balance: 2.1 })], previous, catalog, calm, locate);
    expect(calm.total('warning')).toBe(0);
  });
});
