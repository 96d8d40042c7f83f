import fs from 'node:fs';
import path from 'node:path';
import { Catalog } from '../catalog/catalog.js';
import { catalogFileSchema } from '../catalog/catalog.schema.js';
import { type FileProblem, type FileResult, loadYamlFile } from '../config/yaml-file.js';
import { formatKeyPath } from '../config/yaml-locate.js';
import { loadRuleFiles } from './rule.loader.js';
import { readRuleTestDocument, resolveRuleTests } from './rule-test.parser.js';
import type { RuleTestSuite } from './rule-test.types.js';

/** Suffix that marks a rule test file; the rule loader reads `*.rules.yaml` only, so tests never load as rules. */
export const RULE_TEST_SUFFIX = '.test.yaml';

/**
 * Reads a rule test file with the rule files and catalog it names, resolved against the test file's
 * folder: `rule_files` entries may end in a `*` pattern (`../*.rules.yaml`), and the catalog defaults
 * to `catalog.yaml` beside the first rule file. Every problem comes back at once, each with its file
 * and position: the test file's own, or those of a rule file or catalog that does not load. Never
 * throws for content.
 */
export function loadRuleTestFile(file: string): FileResult<RuleTestSuite> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [{ file, path: '', message: (error as Error).message }] };
  }
  const read = readRuleTestDocument(file, text);
  if (!read.ok) return read;
  const { def, locator } = read.value;
  const dir = path.dirname(file);
  const problems: FileProblem[] = [];
  const at = (keys: (string | number)[], message: string) =>
    problems.push({ file, path: formatKeyPath(keys), ...locator.at(keys), message });

  const ruleFiles: string[] = [];
  def.rule_files.forEach((pattern, i) => {
    const matched = expand(path.join(dir, pattern));
    if (matched.length === 0) at(['rule_files', i], `no rule file matches ${path.join(dir, pattern)}`);
    for (const f of matched) if (!ruleFiles.includes(f)) ruleFiles.push(f);
  });
  const first = ruleFiles[0];
  if (problems.length > 0 || first === undefined) return { ok: false, problems };
  const catalogFile = def.catalog
    ? path.join(dir, def.catalog)
    : path.join(path.dirname(first), 'catalog.yaml');
  if (!fs.existsSync(catalogFile)) {
    at(def.catalog ? ['catalog'] : ['rule_files', 0], `no catalog at ${catalogFile}`);
    return { ok: false, problems };
  }

  const parsed = loadYamlFile(catalogFile, catalogFileSchema);
  const catalog = parsed.ok ? Catalog.fromFile(parsed.value, catalogFile) : parsed;
  if (!catalog.ok) return catalog;
  const rules = loadRuleFiles(ruleFiles, catalog.value);
  if (!rules.ok) return rules;
  return resolveRuleTests(read.value, { catalog: catalog.value, rules: rules.value.rules });
}

/**
 * The rule test files a command line names: files as given, folders as their `*.test.yaml` files in
 * name order. A folder without any is a problem, not an empty run; the files found are still listed.
 */
export function ruleTestFilesIn(paths: readonly string[]): { files: string[]; problems: FileProblem[] } {
  const files: string[] = [];
  const problems: FileProblem[] = [];
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = fs.statSync(p).isDirectory();
    } catch {
      // Not there: reported when read, with the reason.
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const found = fs
      .readdirSync(p)
      .filter((n) => n.endsWith(RULE_TEST_SUFFIX))
      .sort()
      .map((n) => path.join(p, n));
    if (found.length === 0)
      problems.push({ file: p, path: '', message: `no *${RULE_TEST_SUFFIX} file in ${p}` });
    files.push(...found);
  }
  return { files, problems };
}

/** A path, or the files a `*` in its last part matches (in name order). */
function expand(pattern: string): string[] {
  const base = path.basename(pattern);
  if (!base.includes('*')) return fs.existsSync(pattern) ? [pattern] : [];
  const dir = path.dirname(pattern);
  const escaped = base.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*');
  const match = new RegExp(`^${escaped}$`);
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => match.test(n))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}
