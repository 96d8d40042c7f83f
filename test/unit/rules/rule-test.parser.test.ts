import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { loadRuleTestFile } from '../../../src/rules/rule-test.loader.js';
import { readRuleTestDocument } from '../../../src/rules/rule-test.parser.js';
import { formatSuiteResult } from '../../../src/rules/rule-test.report.js';
import { runRuleTestSuite } from '../../../src/rules/rule-test.runner.js';
import { FIXTURES_DIR, RULES_DIR } from './rules.fixture.js';

/** A fixture's path from the working folder (the checkout), so messages do not depend on where it lives. */
const fixture = (name: string) => path.relative(process.cwd(), path.join(FIXTURES_DIR, 'rule-tests', name));

/** The problems of a test file that must not load, one `file:line:column: path: message` each. */
function problemsOf(file: string): string[] {
  const result = loadRuleTestFile(file);
  if (result.ok) throw new Error(`${file} was expected to fail`);
  return formatProblems(result.problems).split('\n');
}

describe(loadRuleTestFile.name, () => {
  it('loads a good file: rules and catalog resolved from its folder, series expanded into arrivals', () => {
    const result = loadRuleTestFile(fixture('for-three.good.yaml'));
    if (!result.ok) throw new Error(formatProblems(result.problems));
    const suite = result.value;
    expect(suite.rules.map((r) => r.id)).toEqual(['npl_three_levels']);
    expect(suite.timeZone).toBe('Asia/Shanghai');
    expect(suite.tests.map((t) => [t.name, t.where])).toEqual([
      [
        'pending for two months, firing from the third, resolving, then flapping back to pending',
        `${fixture('for-three.good.yaml')}:9:5`,
      ],
      ['a month filed late completes the run it had cut', `${fixture('for-three.good.yaml')}:47:5`],
    ]);
    expect(suite.tests[1]?.arrivals).toEqual([
      {
        at: { kind: 'period', period: '2024-01' },
        institution: 'QZ-RCB-01',
        period: '2024-01',
        metric: 'npl_ratio',
        value: 3.5,
      },
      {
        at: { kind: 'period', period: '2024-02' },
        institution: 'QZ-RCB-01',
        period: '2024-02',
        metric: 'npl_ratio',
        value: 3.6,
      },
      {
        at: { kind: 'period', period: '2024-05' },
        institution: 'QZ-RCB-01',
        period: '2024-03',
        metric: 'npl_ratio',
        value: 3.7,
      },
      {
        at: { kind: 'period', period: '2024-04' },
        institution: 'QZ-RCB-01',
        period: '2024-04',
        metric: 'npl_ratio',
        value: 3.8,
      },
      {
        at: { kind: 'period', period: '2024-05' },
        institution: 'QZ-RCB-01',
        period: '2024-05',
        metric: 'npl_ratio',
        value: 3.9,
      },
    ]);
    // An expectation takes its rule from the check's filter, and is identified by its fingerprint.
    expect(suite.tests[0]?.checks[1]?.alerts).toEqual([
      {
        fingerprint: 'npl_three_levels/QZ-RCB-01/npl_ratio',
        rule: 'npl_three_levels',
        institution: 'QZ-RCB-01',
        state: 'pending',
        severity: 'warning',
        periods: 2,
      },
    ]);
  });

  it('reports every problem of shape at once, each at its line and column, unknown keys at the key', () => {
    const file = fixture('shape.bad.yaml');
    expect(problemsOf(file)).toEqual([
      `${file}:2:13: rule_files: Too small: expected array to have >=1 items`,
      `${file}:3:12: time_zone: must be an IANA time zone such as Asia/Shanghai`,
      `${file}:5:5: institutions[0].county: Invalid input: expected string, received undefined`,
      `${file}:9:60: tests[0].input_series[0].start: must be a period such as 2024-06 or 2024-Q2`,
      `${file}:9:77: tests[0].input_series[0].values: must be values in the notation, such as "3.5 4.2 _ 5.1" (text), or a single number`,
      `${file}:11:9: tests[0].alert_rule_test[0]: give exp_alerts, exp_transitions or both (an empty list expects none)`,
      `${file}:11:13: tests[0].alert_rule_test[0].at: must be a period (2024-06, 2024-Q2) or a day (2024-07-20)`,
      `${file}:12:9: tests[0].alert_rule_test[0].exp_alert: unknown key "exp_alert"`,
      `${file}:15:56: tests[0].alert_rule_test[1].exp_alerts[0].state: Invalid option: expected one of "pending"|"firing"`,
      `${file}:16:5: tests[1].alert_rule_test: Invalid input: expected array, received undefined`,
    ]);
  });

  it('reports every reference and notation problem at once, a values token at the token itself', () => {
    const file = fixture('references.bad.yaml');
    expect(problemsOf(file)).toEqual([
      `${file}:7:42: institutions[1].type: unknown institution type pawnshop`,
      `${file}:7:60: institutions[1].county: unknown county 泉州市`,
      `${file}:12:17: tests[0].institutions[0].code: institution QZ-VB-01 is already declared at the top of the file`,
      `${file}:14:24: tests[0].input_series[0].institution: unknown institution QZ-VB-09: declare it under institutions`,
      `${file}:15:42: tests[0].input_series[1].metric: unknown metric npl_rate`,
      `${file}:16:73: tests[0].input_series[2].start: capital_adequacy_ratio is reported quarterly: start must be a quarterly period such as 2024-Q1`,
      `${file}:17:82: tests[0].input_series[3].values: "4,2" is not a value: write a number, _ for a missing period, VxN, A+BxN, A-BxN or _xN`,
      `${file}:18:86: tests[0].input_series[4].values: 120 is outside the range of npl_ratio (0 to 100)`,
      `${file}:18:90: tests[0].input_series[4].values: 2024-07 cannot arrive at 2024-05, before the period ends`,
      `${file}:24:47: tests[0].input_series[5].corrections[0].at: a correction must arrive after the value it corrects, which arrives at 2024-02`,
      `${file}:25:23: tests[0].input_series[5].corrections[1].period: liquidity_ratio is reported monthly: 2024-Q1 is not a monthly period`,
      `${file}:26:84: tests[0].input_series[6].values: liquidity_ratio of QZ-VB-01 for 2024-03 is already given at tests[0].input_series[5].values`,
      `${file}:28:44: tests[0].filings[0].periods: 2024-01..2023-12: the range ends before it starts`,
      `${file}:29:52: tests[0].filings[1].periods: 2024-Q1 cannot arrive at 2024-02, before the period ends`,
      `${file}:32:15: tests[0].alert_rule_test[0].rule: unknown rule npl_ratio; the rule files define: npl_three_levels, village_bank_filing`,
      `${file}:37:13: tests[0].alert_rule_test[1].exp_alerts[0]: period is required for village_bank_filing: a missing-filing alert is about one period`,
      `${file}:38:21: tests[0].alert_rule_test[1].exp_alerts[1].rule: rule npl_three_levels is outside this check's rule: village_bank_filing`,
      `${file}:39:13: tests[0].alert_rule_test[1].exp_alerts[2]: which institution? give institution here or on the check`,
      `${file}:41:22: tests[0].alert_rule_test[2].exp_alerts[0]: rule npl_three_levels does not cover QZ-PN-01, of type pawnshop`,
    ]);
  });

  it('gives institutions their attributes, for rules narrowed by where and overrides by attribute', () => {
    const result = loadRuleTestFile(fixture('attributes.good.yaml'));
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.value.tests[0]?.institutions.map((i) => [i.code, i.attributes])).toEqual([
      ['QZ-FG-GOV', { government_backed: true }],
      ['QZ-FG-SM', { small_micro_focused: true }],
      ['QZ-FG-COM', undefined],
    ]);
    const run = runRuleTestSuite(result.value);
    if (!run.ok) expect.fail(formatSuiteResult(run));
  });

  it('reports attributes the catalog does not declare for the type, and expectations outside where', () => {
    const file = fixture('attributes.bad.yaml');
    const known = 'known: government_backed, small_micro_focused, large_bank, first_operating_year';
    expect(problemsOf(file)).toEqual([
      `${file}:5:106: institutions[0].attributes.government_backd: unknown institution attribute government_backd; ${known}`,
      `${file}:6:110: institutions[1].attributes.first_operating_year: institution type financing_guarantee cannot carry attribute first_operating_year (declared for pawn)`,
      `${file}:15:13: tests[0].alert_rule_test[0].exp_alerts[0]: rule government_leverage_target does not cover QZ-FG-01: it judges only institutions with government_backed: true`,
    ]);
    const shape = readRuleTestDocument(
      'shape.test.yaml',
      [
        'rule_files: [x.rules.yaml]',
        'institutions:',
        '  - { code: A, name: A, type: financing_guarantee, county: 市本级, attributes: { government_backed: "yes" } }',
        'tests: [{ name: t, alert_rule_test: [{ at: 2024-01, exp_alerts: [] }] }]',
      ].join('\n'),
    );
    if (shape.ok) throw new Error('expected a shape problem');
    expect(formatProblems(shape.problems)).toBe(
      'shape.test.yaml:3:98: institutions[0].attributes.government_backed: must be true or false',
    );
  });

  it('reports a YAML syntax error at its line and column', () => {
    const result = readRuleTestDocument('broken.test.yaml', 'rule_files: [a.rules.yaml\ntests: []\n');
    if (result.ok) throw new Error('expected a syntax error');
    expect(formatProblems(result.problems)).toMatch(/^broken\.test\.yaml:2:1: /);
  });

  describe('with files of its own', () => {
    let dir: string;
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    };
    const minimalTest = (ruleFiles: string, extra = '') =>
      [
        `rule_files: ${ruleFiles}`,
        extra,
        'institutions: [{ code: VB, name: 村镇银行, type: village_bank, county: 安溪县 }]',
        'tests:',
        '  - name: t',
        '    alert_rule_test: [{ at: 2024-01, exp_alerts: [] }]',
        '',
      ].join('\n');

    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-rule-tests-'));
      write('rules/catalog.yaml', fs.readFileSync(path.join(RULES_DIR, 'catalog.yaml'), 'utf8'));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('resolves a * in rule_files to the matching files in name order, with the catalog beside them', () => {
      for (const name of ['minimal.good.yaml', 'three-levels.good.yaml', 'missing-filing.good.yaml'])
        fs.copyFileSync(
          path.join(FIXTURES_DIR, name),
          path.join(dir, 'rules', name.replace('.good', '.rules')),
        );
      const file = write('rules/tests/glob.test.yaml', minimalTest('["../*.rules.yaml"]'));
      const result = loadRuleTestFile(file);
      if (!result.ok) throw new Error(formatProblems(result.problems));
      expect(result.value.rules.map((r) => r.id)).toEqual([
        'village_bank_liquidity',
        'village_bank_filing',
        'npl_three_levels',
      ]);
    });

    it('reports rule files that match nothing and a catalog that is not there, in the test file', () => {
      const file = write('other/missing.test.yaml', minimalTest('[nothing/*.rules.yaml, none.rules.yaml]'));
      expect(problemsOf(file)).toEqual([
        `${file}:1:14: rule_files[0]: no rule file matches ${path.join(dir, 'other/nothing/*.rules.yaml')}`,
        `${file}:1:36: rule_files[1]: no rule file matches ${path.join(dir, 'other/none.rules.yaml')}`,
      ]);
      const noCatalog = write(
        'other/no-catalog.test.yaml',
        minimalTest('[../rules/minimal.rules.yaml]', 'catalog: cat.yaml'),
      );
      expect(problemsOf(noCatalog)).toEqual([
        `${noCatalog}:2:10: catalog: no catalog at ${path.join(dir, 'other/cat.yaml')}`,
      ]);
    });

    it('passes on the problems of a rule file it loads, located in that file', () => {
      write('bad/catalog.yaml', fs.readFileSync(path.join(dir, 'rules/catalog.yaml'), 'utf8'));
      const rules = write(
        'bad/a.rules.yaml',
        fs
          .readFileSync(path.join(FIXTURES_DIR, 'minimal.good.yaml'), 'utf8')
          .replace('liquidity_ratio', 'no_metric'),
      );
      const file = write('bad/a.test.yaml', minimalTest('[a.rules.yaml]'));
      expect(problemsOf(file)).toEqual([`${rules}:6: groups[0].rules[0].metric: unknown metric no_metric`]);
    });
    it('identifies region-aggregate expectations by region, checking it against the rule', () => {
      write('region/catalog.yaml', fs.readFileSync(path.join(dir, 'rules/catalog.yaml'), 'utf8'));
      write(
        'region/r.rules.yaml',
        [
          'groups:',
          '  - name: r',
          '    rules:',
          '      - id: region_npl',
          '        kind: region_aggregate',
          '        metric: npl_ratio',
          '        types: [village_bank]',
          '        by: [county, type]',
          '        op: ">"',
          '        levels: [{ severity: warning, threshold: 4 }]',
          '        source: x',
          '        summary: { zh: "{{region_name}}", en: "{{region}}" }',
          '      - id: npl',
          '        metric: npl_ratio',
          '        types: [village_bank]',
          '        op: ">"',
          '        levels: [{ severity: warning, threshold: 4 }]',
          '        source: x',
          '        summary: { zh: "{{value}}", en: "{{value}}" }',
          '',
        ].join('\n'),
      );
      const file = write(
        'region/r.test.yaml',
        [
          'rule_files: [r.rules.yaml]',
          'institutions: [{ code: VB, name: 村镇银行, type: village_bank, county: 安溪县 }]',
          'tests:',
          '  - name: t',
          '    alert_rule_test:',
          '      - at: 2024-01',
          '        rule: region_npl',
          '        exp_alerts:',
          '          - { region: "county:安溪县", state: firing, severity: warning }',
          '          - { region: "type:village_bank", state: firing, severity: warning }',
          '          - { region: "city:*", state: firing, severity: warning }',
          '          - { region: "type:pawn", state: firing, severity: warning }',
          '          - { region: "district:安溪县", state: firing, severity: warning }',
          '          - { institution: VB, state: firing, severity: warning }',
          '      - at: 2024-01',
          '        rule: npl',
          '        exp_alerts: [{ region: "county:安溪县", state: firing, severity: warning }]',
          '      - { at: 2024-01, region: "county:泉州", exp_alerts: [] }',
          '',
        ].join('\n'),
      );
      expect(problemsOf(file)).toEqual([
        `${file}:11:13: tests[0].alert_rule_test[0].exp_alerts[2]: rule region_npl aggregates by county, type, not by city`,
        `${file}:12:13: tests[0].alert_rule_test[0].exp_alerts[3]: rule region_npl does not cover type pawn`,
        `${file}:13:23: tests[0].alert_rule_test[0].exp_alerts[4].region: district:安溪县 is not a region: write county:<county>, type:<type> or city:*`,
        `${file}:14:13: tests[0].alert_rule_test[0].exp_alerts[5]: rule region_npl aggregates regions: name a region, not an institution`,
        `${file}:17:32: tests[0].alert_rule_test[1].exp_alerts[0].region: a region is for region-aggregate rules; this one judges institutions`,
        `${file}:18:32: tests[0].alert_rule_test[2].region: unknown county 泉州`,
      ]);
      const good = write(
        'region/good.test.yaml',
        [
          'rule_files: [r.rules.yaml]',
          'institutions: [{ code: VB, name: 村镇银行, type: village_bank, county: 安溪县 }]',
          'tests:',
          '  - name: t',
          '    alert_rule_test:',
          '      - { at: 2024-01, rule: region_npl, region: "county:安溪县", exp_alerts: [{ state: firing, severity: warning }] }',
          '',
        ].join('\n'),
      );
      const loaded = loadRuleTestFile(good);
      if (!loaded.ok) throw new Error(formatProblems(loaded.problems));
      expect(loaded.value.tests[0]?.checks[0]).toMatchObject({
        region: 'county:安溪县',
        alerts: [
          {
            rule: 'region_npl',
            institution: null,
            region: 'county:安溪县',
            fingerprint: 'region_npl/*/county:安溪县',
          },
        ],
      });
    });
  });
});
