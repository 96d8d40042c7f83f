import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/catalog/catalog.js';
import { parseYaml } from '../../../src/config/yaml-file.js';
import { loadRoutes, matchRoutes, type Route, recipientsFileSchema } from '../../../src/notify/routes.js';
import { makeRoute } from './notify.fixtures.js';

const RULES_DIR = path.resolve(import.meta.dirname, '../../../rules');

const parse = (text: string, vocabulary?: Parameters<typeof recipientsFileSchema>[0]) =>
  parseYaml('recipients.yaml', text, recipientsFileSchema(vocabulary));

describe(loadRoutes.name, () => {
  it('accepts the shipped recipients.yaml, checked against the shipped catalog', () => {
    const catalog = Catalog.load(RULES_DIR);
    if (!catalog.ok) throw new Error('the shipped catalog must load');
    const routes = loadRoutes(RULES_DIR, catalog.value);
    expect(routes).toMatchObject({ ok: true });
    if (!routes.ok) return;
    expect(routes.value.map((r) => r.name)).toContain('supervisors');
    expect(routes.value.every((r) => r.to.every((a) => a.endsWith('@example.gov.cn')))).toBe(true);
  });

  it('reports a missing file as a problem instead of throwing', () => {
    const result = loadRoutes('/nonexistent/rules');
    expect(result.ok).toBe(false);
  });
});

describe('recipientsFileSchema', () => {
  it('defaults lang to zh and match to everything', () => {
    const result = parse('routes:\n  - name: all\n    to: [a@example.gov.cn]\n');
    expect(result).toEqual({
      ok: true,
      value: {
        routes: [
          {
            name: 'all',
            match: {},
            to: ['a@example.gov.cn'],
            lang: 'zh',
            group_by: ['institution'],
            group_wait: 30_000,
            send_resolved: true,
            monthly_summary: undefined,
          },
        ],
        calendar: { holidays: [], workdays: [] },
      },
    });
  });

  it('reports every problem at once, with its line', () => {
    const text = [
      'routes:',
      '  - name: a',
      '    to: [not-an-address]',
      '  - name: a',
      '    to: [b@example.gov.cn, B@example.gov.cn]',
      '    lang: fr',
      '  - name: Bad Name',
      '    match: { severity: [critical] }',
      '    to: [c@example.gov.cn]',
      '',
    ].join('\n');
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const found = result.problems.map((p) => `${p.line}: ${p.path}`);
    expect(found).toEqual(
      expect.arrayContaining([
        '3: routes[0].to[0]',
        '6: routes[1].lang',
        '7: routes[2].name',
        '8: routes[2].match',
      ]),
    );
  });

  it('reports duplicate names and addresses, which zod alone cannot see', () => {
    const text =
      'routes:\n  - { name: a, to: [x@example.gov.cn, X@example.gov.cn] }\n  - { name: a, to: [y@example.gov.cn] }\n';
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [2, 'routes[0].to[1]', 'duplicate address X@example.gov.cn'],
      [3, 'routes[1].name', 'duplicate route name a'],
    ]);
  });

  it('keeps the name receipt for upload receipts', () => {
    const result = parse('routes:\n  - { name: receipt, to: [a@example.gov.cn] }\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [2, 'routes[0].name', 'receipt is reserved for upload receipts'],
    ]);
  });

  it('rejects types and counties the catalog does not know', () => {
    const vocabulary = { types: new Map([['village_bank', {}]]), counties: new Map([['鲤城区', {}]]) };
    const text =
      'routes:\n  - name: a\n    match: { types: [village_bank, vilage_bank], counties: [鲤城] }\n    to: [a@example.gov.cn]\n';
    const result = parse(text, vocabulary);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.message)).toEqual([
      'unknown institution type vilage_bank',
      'unknown county 鲤城',
    ]);
  });
});

describe(matchRoutes.name, () => {
  const route = (name: string, match: Route['match']): Route => makeRoute({ name, match });
  const routes = [
    route('all', {}),
    route('critical', { severities: ['critical'] }),
    route('banks-licheng', { types: ['village_bank'], counties: ['鲤城区'] }),
    route('npl', { rules: ['npl_ratio_high'], severities: ['warning', 'critical'] }),
  ];
  const bank = { ruleId: 'npl_ratio_high', institutionType: 'village_bank', county: '鲤城区' };

  it.each([
    [
      'a critical bank alert in 鲤城区',
      { ...bank, severity: 'critical' as const },
      ['all', 'critical', 'banks-licheng', 'npl'],
    ],
    ['an info bank alert', { ...bank, severity: 'info' as const }, ['all', 'banks-licheng']],
    ['a bank in another county', { ...bank, county: '晋江市', severity: 'warning' as const }, ['all', 'npl']],
    ['another rule', { ...bank, ruleId: 'car_low', severity: 'warning' as const }, ['all', 'banks-licheng']],
    [
      'a regional alert (no type nor county)',
      { ruleId: 'npl_ratio_high', severity: 'critical' as const },
      ['all', 'critical', 'npl'],
    ],
  ])('matches %s', (_, subject, expected) => {
    expect(matchRoutes(routes, subject).map((r) => r.name)).toEqual(expected);
  });
});
