import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/auth/api-key.js';
import { draftValues, type RawObservation } from '../../../src/ingest/observation.types.js';
import { parseDecimal, validateObservations } from '../../../src/ingest/observation.validator.js';
import type { Institution } from '../../../src/institutions/institution.schema.js';
import { shippedCatalog } from '../../support/catalog.js';

const catalog = shippedCatalog();
const institution = (code: string, type: string): Institution => ({
  code,
  name: code,
  type,
  county: '鲤城区',
  credit_code: null,
  established_on: null,
  attributes: {},
  created_at: '',
});
const institutions = new Map([
  ['B1', institution('B1', 'rural_commercial_bank')],
  ['G1', institution('G1', 'financing_guarantee')],
]);
const admin: Principal = { keyId: 'k', name: 'admin', role: 'admin', institution: null, email: null };
const b1Key: Principal = { keyId: 'k2', name: 'b1', role: 'institution', institution: 'B1', email: null };

function rows(...lines: [string, string, string, string][]): RawObservation[] {
  return lines.map(([i, p, m, v], n) => ({
    institution: { text: i, row: n + 2, column: 1, field: 'institution' },
    period: { text: p, row: n + 2, column: 2, field: 'period' },
    metric: { text: m, row: n + 2, column: 3, field: 'metric' },
    value: { text: v, row: n + 2, column: 4, field: 'value' },
  }));
}

describe(validateObservations.name, () => {
  it('groups valid rows into one draft per institution and period', () => {
    const result = validateObservations(
      rows(
        ['B1', '2024-06', 'npl_balance', '62'],
        ['B1', '2024-06', '各项贷款余额', '1000'],
        ['B1', '2024-Q2', 'net_capital', '-5'],
      ),
      {
        catalog,
        institutions,
        principal: admin,
      },
    );
    expect(result.errors).toEqual([]);
    expect(
      result.drafts.map((d) => ({ institution: d.institution, period: d.period, values: draftValues(d) })),
    ).toEqual([
      { institution: 'B1', period: '2024-06', values: { npl_balance: 62, total_loans: 1000 } },
      { institution: 'B1', period: '2024-Q2', values: { net_capital: -5 } },
    ]);
    const located = validateObservations(rows(['B1', '2024-06', 'npl_balance', '62']), {
      catalog,
      institutions,
      principal: admin,
    });
    expect(located.drafts[0]?.locations).toHaveLength(1);
  });

  it('stores quarterly metrics given for a quarter-end month under the quarter, and says so once', () => {
    const result = validateObservations(
      rows(
        ['B1', '2024-06', 'npl_balance', '62'],
        ['B1', '2024-06', 'capital_adequacy_ratio', '12.5'],
        ['B1', '2024-06', 'tier1_ratio', '10.5'],
        ['B1', '2024-05', 'tier1_ratio', '10.5'],
      ),
      { catalog, institutions, principal: admin },
    );
    expect(result.errors.map((e) => [e.code, e.row])).toEqual([['period_frequency_mismatch', 5]]);
    const accepted = validateObservations(
      rows(['B1', '2024-06', 'npl_balance', '62'], ['B1', '2024-06', 'tier1_ratio', '10.5']),
      {
        catalog,
        institutions,
        principal: admin,
      },
    );
    expect(accepted.drafts.map((d) => [d.period, d.metrics])).toEqual([
      ['2024-06', ['npl_balance']],
      ['2024-Q2', ['tier1_ratio']],
    ]);
    expect(accepted.problems.list('info').map((p) => p.code)).toEqual(['stored_as_quarter']);
  });

  it('refuses periods not over yet and periods before the institution was established', () => {
    const young = new Map([
      ['B1', { ...institution('B1', 'rural_commercial_bank'), established_on: '2024-03-15' }],
    ]);
    const result = validateObservations(
      rows(
        ['B1', '2024-02', 'npl_ratio', '1'],
        ['B1', '2024-03', 'npl_ratio', '1'],
        ['B1', '2024-11', 'npl_ratio', '1'],
      ),
      { catalog, institutions: young, principal: admin, today: '2024-11-28' },
    );
    expect(result.errors.map((e) => [e.code, e.row, e.column])).toEqual([
      ['before_established', 2, 2],
      ['future_period', 4, 2],
    ]);
  });

  it('counts an identical repeated row once with a warning, and resolves institutions by credit code', () => {
    const withCredit = new Map([
      ['B1', { ...institution('B1', 'rural_commercial_bank'), credit_code: '91350500MA2XXXXX1X' }],
      [
        '91350500MA2XXXXX1X',
        { ...institution('B1', 'rural_commercial_bank'), credit_code: '91350500MA2XXXXX1X' },
      ],
    ]);
    const result = validateObservations(
      rows(['91350500ma2xxxxx1x', '2024-06', 'npl_ratio', '1.5'], ['B1', '2024-06', 'npl_ratio', '1.50']),
      { catalog, institutions: withCredit, principal: admin },
    );
    expect(result.errors).toEqual([]);
    expect(result.drafts.map((d) => [d.institution, draftValues(d)])).toEqual([['B1', { npl_ratio: 1.5 }]]);
    expect(result.problems.list('warning').map((w) => [w.code, w.row])).toEqual([['duplicate_row', 3]]);
  });

  it('reports every problem with its row and column, and returns no draft', () => {
    const result = validateObservations(
      rows(
        ['B9', '2024-06', 'npl_ratio', '1'],
        ['G1', '2024-06', 'npl_ratio', '1'],
        ['B1', '2024-Q2', 'npl_ratio', '1'],
        ['B1', '2024-06', 'npl_ratio', '101'],
        ['B1', '2024-07', 'npl_ratio', '1,234.5'],
        ['B1', '2024-08', 'npl_ratio', '5%'],
        ['B1', '2024-09', 'npl_ratio', '1'],
        ['B1', '2024-09', 'npl_ratio', '2'],
        ['B1', '2024-10', 'npl_ratio', '1e999'],
      ),
      { catalog, institutions, principal: admin },
    );
    expect(result.drafts).toEqual([]);
    expect(result.errors.map((e) => [e.code, e.row, e.column])).toEqual([
      ['unknown_institution', 2, 1],
      ['metric_not_for_type', 3, 3],
      ['period_frequency_mismatch', 4, 2],
      ['out_of_range', 5, 4],
      ['invalid_number', 6, 4],
      ['invalid_number', 7, 4],
      ['duplicate_value', 9, 4],
      ['invalid_number', 10, 4],
    ]);
    expect(result.errors[4]?.message).toContain('write 1234.5');
  });

  it('lets an institution key submit only its own institution', () => {
    const result = validateObservations(
      rows(['G1', '2024-06', 'net_assets', '1'], ['B1', '2024-06', 'npl_ratio', '1']),
      { catalog, institutions, principal: b1Key },
    );
    expect(result.errors.map((e) => [e.code, e.row])).toEqual([['institution_not_allowed', 2]]);
  });

  it('refuses an empty upload', () => {
    expect(validateObservations([], { catalog, institutions, principal: admin }).errors[0]?.code).toBe(
      'empty_file',
    );
  });
});

describe(parseDecimal.name, () => {
  it('accepts every finite double written plainly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const parsed = parseDecimal(String(x));
        expect(parsed).toEqual({ ok: true, value: x === 0 ? 0 : x });
      }),
    );
  });

  it('never accepts text that is not a plain number', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const parsed = parseDecimal(s);
        if (parsed.ok) expect(Number.isFinite(Number(s.trim()))).toBe(true);
      }),
    );
    for (const s of ['NaN', 'Infinity', '-Infinity', '0x10', '1_000', '', '  ', '１２', '1.2.3'])
      expect(parseDecimal(s).ok, s).toBe(false);
  });
});
