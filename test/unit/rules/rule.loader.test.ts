import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { loadRuleSet, parseRuleFile } from '../../../src/rules/rule.loader.js';
import { catalog, FIXTURES_DIR } from './rules.fixture.js';

/** Parses a fixture under its bare name, so messages do not depend on where the checkout lives. */
function parseFixture(name: string) {
  return parseRuleFile(name, fs.readFileSync(path.join(FIXTURES_DIR, name), 'utf8'), catalog);
}

/** The problems of a bad fixture, one `file:line: path: message` string each. */
function problemsOf(name: string): string[] {
  const result = parseFixture(name);
  if (result.ok) throw new Error(`${name} was expected to fail`);
  return formatProblems(result.problems).split('\n');
}

describe(parseRuleFile.name, () => {
  it('accepts a minimal rule, defaulting for to 1 and recording group and file', () => {
    const result = parseFixture('minimal.good.yaml');
    expect(result).toMatchObject({
      ok: true,
      value: [{ id: 'village_bank_liquidity', for: 1, group: 'minimal', file: 'minimal.good.yaml' }],
    });
  });

  it('stores levels lowest severity first, whatever order they were written in', () => {
    const result = parseFixture('three-levels.good.yaml');
    if (!result.ok) throw new Error(formatProblems(result.problems));
    const rule = result.value[0];
    if (rule?.kind !== 'threshold') throw new Error('expected a threshold rule');
    expect(rule.levels).toEqual([
      { severity: 'info', threshold: 3 },
      { severity: 'warning', threshold: 4 },
      { severity: 'critical', threshold: 5 },
    ]);
    expect(rule.for).toBe(3);
  });

  it('reports every schema and cross-reference problem of a file in one pass, with lines', () => {
    const known =
      'known: institution, institution_name, metric, metric_name, value, threshold, unit, period, first_period, periods, severity, severity_zh';
    expect(problemsOf('many-problems.bad.yaml')).toEqual([
      'many-problems.bad.yaml:12: groups[0].rules[0].sumary: unknown key "sumary"',
      'many-problems.bad.yaml:15: groups[0].rules[1].metric: unknown metric npl_rate',
      'many-problems.bad.yaml:22: groups[0].rules[2].id: duplicate rule id unknown_metric, first defined at many-problems.bad.yaml:14',
      'many-problems.bad.yaml:24: groups[0].rules[2].types[0]: unknown institution type finance_guarantee',
      'many-problems.bad.yaml:24: groups[0].rules[2].types[1]: institution type pawn does not report metric guarantee_leverage',
      "many-problems.bad.yaml:35: groups[0].rules[3].levels: with op '<' the critical threshold (11.5) must be below the warning threshold (10.5)",
      'many-problems.bad.yaml:45: groups[0].rules[4].for: Too small: expected number to be >=1',
      `many-problems.bad.yaml:47: groups[0].rules[4].summary.zh: unknown placeholder {{valeu}}; ${known}`,
      `many-problems.bad.yaml:47: groups[0].rules[4].summary.en: unknown placeholder {{units}}; ${known}`,
    ]);
  });

  it('accepts a missing-filing rule, defaulting lookback to 3', () => {
    expect(parseFixture('missing-filing.good.yaml')).toMatchObject({
      ok: true,
      value: [{ id: 'village_bank_filing', kind: 'missing_filing', frequency: 'quarterly', lookback: 3 }],
    });
  });

  it('reports missing-filing problems: unknown kind, threshold keys, bad lookback, types, placeholders', () => {
    const filing =
      'known: institution, institution_name, period, frequency, due_date, days_overdue, value, severity, severity_zh';
    const threshold =
      'known: institution, institution_name, metric, metric_name, value, threshold, unit, period, first_period, periods, severity, severity_zh';
    expect(problemsOf('missing-filing.bad.yaml')).toEqual([
      'missing-filing.bad.yaml:6: groups[0].rules[0].kind: unknown kind "late_filing"; known: threshold, change, trend, projection, expression, missing_data, missing_filing, peer_outlier, region_aggregate',
      'missing-filing.bad.yaml:17: groups[0].rules[1].lookback: Too small: expected number to be >=1',
      'missing-filing.bad.yaml:18: groups[0].rules[1].for: unknown key "for"',
      `missing-filing.bad.yaml:21: groups[0].rules[1].summary.zh: unknown placeholder {{metric_name}}; ${filing}`,
      `missing-filing.bad.yaml:29: groups[0].rules[2].summary.zh: unknown placeholder {{due_date}}; ${threshold}`,
    ]);
    const text = fs
      .readFileSync(path.join(FIXTURES_DIR, 'missing-filing.bad.yaml'), 'utf8')
      .replace('lookback: 0', 'lookback: 2')
      .replace('        for: 2\n', '')
      .replace('{{metric_name}}', '{{due_date}}');
    const result = parseRuleFile('fixed.rules.yaml', text, catalog);
    expect(result.ok ? [] : formatProblems(result.problems).split('\n').slice(1)).toEqual([
      'fixed.rules.yaml:15: groups[0].rules[1].types[0]: institution type pawn reports no quarterly metric',
      'fixed.rules.yaml:15: groups[0].rules[1].types[1]: unknown institution type nope',
      `fixed.rules.yaml:28: groups[0].rules[2].summary.zh: unknown placeholder {{due_date}}; ${threshold}`,
    ]);
  });

  it('reports shape errors: case, empty lists, unknown op, non-integer for, missing language, unknown group key', () => {
    expect(problemsOf('wrong-shape.bad.yaml')).toEqual([
      'wrong-shape.bad.yaml:4: groups[0].rules[0].id: must be lower_snake_case',
      'wrong-shape.bad.yaml:6: groups[0].rules[0].types: Too small: expected array to have >=1 items',
      'wrong-shape.bad.yaml:7: groups[0].rules[0].op: Invalid option: expected one of ">"|">="|"<"|"<="',
      'wrong-shape.bad.yaml:8: groups[0].rules[0].levels: Too small: expected array to have >=1 items',
      'wrong-shape.bad.yaml:9: groups[0].rules[0].for: Invalid input: expected int, received number',
      'wrong-shape.bad.yaml:10: groups[0].rules[0].source: Too small: expected string to have >=1 characters',
      'wrong-shape.bad.yaml:11: groups[0].rules[0].summary.en: Invalid input: expected string, received undefined',
      'wrong-shape.bad.yaml:13: groups[1].extra: unknown key "extra"',
      'wrong-shape.bad.yaml:14: groups[1].rules: Too small: expected array to have >=1 items',
    ]);
  });

  it('reports YAML syntax errors with their lines', () => {
    // Inline rather than a fixture file: a file that is not YAML would break the repository's lint.
    const text = [
      'groups:',
      '  - name: broken',
      '    rules:',
      '      - id: x',
      '        op: >',
      '      levels: [',
    ].join('\n');
    const result = parseRuleFile('syntax.bad.yaml', text, catalog);
    expect(result.ok ? [] : formatProblems(result.problems).split('\n')).toEqual([
      'syntax.bad.yaml:6: All mapping items must start at the same column',
      'syntax.bad.yaml:6: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('reports duplicate severities and duplicate group names', () => {
    const level = '{ severity: warning, threshold: 1 }';
    const rule = (id: string) =>
      `      - { id: ${id}, metric: npl_ratio, types: [village_bank], op: '>', levels: [${level}, ${level}], source: s, summary: { zh: z, en: e } }`;
    const text = [
      'groups:',
      '  - name: g',
      '    rules:',
      rule('a'),
      '  - name: g',
      '    rules:',
      rule('b'),
    ].join('\n');
    const result = parseRuleFile('dup.rules.yaml', text, catalog);
    expect(result.ok ? [] : formatProblems(result.problems).split('\n')).toEqual([
      'dup.rules.yaml:4: groups[0].rules[0].levels: levels must have distinct severities',
      'dup.rules.yaml:5: groups[1].name: duplicate group name g',
      'dup.rules.yaml:7: groups[1].rules[0].levels: levels must have distinct severities',
    ]);
  });

  it('reports an empty file without throwing', () => {
    expect(parseRuleFile('empty.rules.yaml', '', catalog)).toEqual({
      ok: false,
      problems: [
        { file: 'empty.rules.yaml', path: '', message: 'Invalid input: expected object, received null' },
      ],
    });
  });
});

describe(loadRuleSet.name, () => {
  it('reads only *.rules.yaml, in name order, and finds ids duplicated across files', () => {
    const dir = path.join(FIXTURES_DIR, 'duplicate-ids');
    const result = loadRuleSet(dir, catalog);
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          file: path.join(dir, 'b.rules.yaml'),
          path: 'groups[0].rules[1].id',
          line: 11,
          message: `duplicate rule id shared_id, first defined at ${path.join(dir, 'a.rules.yaml')}:4`,
        },
      ],
    });
  });

  it('reports a missing folder as a problem', () => {
    const result = loadRuleSet(path.join(FIXTURES_DIR, 'no-such-dir'), catalog);
    expect(result.ok ? [] : result.problems.map((p) => p.message.split(':')[0])).toEqual(['ENOENT']);
  });

  it('hashes the files so any edit changes the hash and an identical reload does not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-rules-'));
    try {
      const file = path.join(dir, 'minimal.rules.yaml');
      fs.copyFileSync(path.join(FIXTURES_DIR, 'minimal.good.yaml'), file);
      const hashOf = () => {
        const result = loadRuleSet(dir, catalog);
        if (!result.ok) throw new Error(formatProblems(result.problems));
        expect(result.value.files).toEqual([file]);
        return result.value.hash;
      };
      const first = hashOf();
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(hashOf()).toBe(first);
      fs.appendFileSync(file, '# a comment\n');
      expect(hashOf()).not.toBe(first);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
