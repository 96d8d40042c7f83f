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

describe('routing options', () => {
  it('reads group_by, group_wait, send_resolved, reminders, monthly summaries and the calendar', () => {
    const text = [
      'calendar:',
      '  holidays: [2026-10-01]',
      '  workdays: [2026-10-10]',
      'routes:',
      '  - name: a',
      '    to: [a@example.gov.cn]',
      '    group_by: [county, rule]',
      '    group_wait: 10m',
      '    send_resolved: false',
      '    reminders: { at: "09:30" }',
      '    monthly_summary: true',
      '',
    ].join('\n');
    const result = parse(text);
    expect(result).toMatchObject({
      ok: true,
      value: {
        calendar: { holidays: ['2026-10-01'], workdays: ['2026-10-10'] },
        routes: [
          {
            group_by: ['county', 'rule'],
            group_wait: 600_000,
            send_resolved: false,
            reminders: { at: '09:30', severities: ['critical'] },
            monthly_summary: { at: '09:00' },
          },
        ],
      },
    });
  });

  it('reports every bad option with its line', () => {
    const text = [
      'calendar:',
      '  holidays: [2026-10-01, 2026-02-30]',
      '  workdays: [2026-10-09, 2026-10-01]',
      'routes:',
      '  - name: a',
      '    to: [a@example.gov.cn]',
      '    group_by: [branch]',
      '    group_wait: 10 minutes',
      '    reminders: { at: "9:30" }',
      '  - name: b',
      '    to: [b@example.gov.cn]',
      '    group_wait: 2d',
      '    monthly_summary: { at: "25:00" }',
      '',
    ].join('\n');
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`).sort()).toEqual([
      '12: routes[1].group_wait: must be at most 1d',
      '13: routes[1].monthly_summary.at: must be a local time HH:mm, such as 09:30',
      '2: calendar.holidays[1]: is not a calendar day',
      '7: routes[0].group_by[0]: Invalid option: expected one of "institution"|"county"|"type"|"rule"|"severity"',
      '8: routes[0].group_wait: must be a duration such as 30s, 10m, 2h or 1d',
      '9: routes[0].reminders.at: must be a local time HH:mm, such as 09:30',
    ]);
  });

  it('checks the workdays: weekend days only, never also a holiday', () => {
    const text =
      'calendar:\n  holidays: [2026-10-01]\n  workdays: [2026-10-09, 2026-10-01, 2026-10-10]\nroutes:\n  - { name: a, to: [a@example.gov.cn] }\n';
    const result = parse(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [
        3,
        'calendar.workdays[0]',
        '2026-10-09 is a weekday, a working day anyway: list only the weekend days worked (调休)',
      ],
      [3, 'calendar.workdays[1]', '2026-10-01 is also listed as a holiday'],
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
