import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblems } from '../../../src/config/yaml-file.js';
import { loadRuleSet } from '../../../src/rules/rule.loader.js';
import { loadRuleTestFile, RULE_TEST_SUFFIX } from '../../../src/rules/rule-test.loader.js';
import { formatSuiteResult } from '../../../src/rules/rule-test.report.js';
import { runRuleTestSuite } from '../../../src/rules/rule-test.runner.js';
import type { RuleTestSuite } from '../../../src/rules/rule-test.types.js';
import { catalog, RULES_DIR } from './rules.fixture.js';

/** The shipped pack's rule tests, named from the checkout so failures print `rules/tests/…:line:column`. */
const TESTS_DIR = path.relative(process.cwd(), path.join(RULES_DIR, 'tests'));
const files = fs
  .readdirSync(TESTS_DIR)
  .filter((n) => n.endsWith(RULE_TEST_SUFFIX))
  .sort();

function load(name: string): RuleTestSuite {
  const loaded = loadRuleTestFile(path.join(TESTS_DIR, name));
  if (!loaded.ok) throw new Error(formatProblems(loaded.problems));
  return loaded.value;
}

describe('the shipped rule tests (rules/tests, `npm run rules:test`)', () => {
  it('are there, one file per rule file', () => {
    expect(files).toEqual([
      'bank.test.yaml',
      'factoring.test.yaml',
      'guarantee.test.yaml',
      'leasing.test.yaml',
      'microloan.test.yaml',
      'pawn.test.yaml',
      'private-capital.test.yaml',
      'quasi-financial.test.yaml',
    ]);
  });

  it.each(files)('%s passes', (name) => {
    const result = runRuleTestSuite(load(name));
    // The report, with its diffs, is the failure message.
    if (!result.ok) expect.fail(formatSuiteResult(result));
    expect(result.tests.length).toBeGreaterThan(0);
  });

  it('expect every rule of the pack to fire and to resolve; threshold rules with for > 1 to flap', () => {
    const shipped = loadRuleSet(RULES_DIR, catalog);
    if (!shipped.ok) throw new Error(formatProblems(shipped.problems));
    const fired = new Set<string>();
    const resolved = new Set<string>();
    const flapped = new Set<string>();
    for (const suite of files.map(load)) {
      for (const test of suite.tests) {
        const seenResolved = new Set<string>();
        for (const check of test.checks) {
          for (const a of check.alerts ?? []) if (a.state === 'firing') fired.add(a.rule);
          for (const t of check.transitions ?? []) {
            if (t.kind === 'firing') fired.add(t.rule);
            // A missing filing resolves only when the filing arrives: every resolution is a late filing.
            if (t.kind === 'resolved') {
              resolved.add(t.rule);
              seenResolved.add(t.rule);
            }
            if ((t.kind === 'pending' || t.kind === 'firing') && seenResolved.has(t.rule))
              flapped.add(t.rule);
          }
        }
      }
    }
    const missing = shipped.value.rules.flatMap((rule) => [
      ...(fired.has(rule.id) ? [] : [`${rule.id}: no test expects it firing`]),
      ...(resolved.has(rule.id) ? [] : [`${rule.id}: no test expects it resolved`]),
      ...(rule.kind === 'threshold' && rule.for > 1 && !flapped.has(rule.id)
        ? [`${rule.id}: for ${rule.for} but no test has it resolve and start again`]
        : []),
    ]);
    expect(missing).toEqual([]);
  });

  it('are never read as rules: the service loads *.rules.yaml from the rules folder only', () => {
    const shipped = loadRuleSet(RULES_DIR, catalog);
    if (!shipped.ok) throw new Error(formatProblems(shipped.problems));
    expect(shipped.value.files.every((f) => path.dirname(f) === RULES_DIR && f.endsWith('.rules.yaml'))).toBe(
      true,
    );
  });
});
