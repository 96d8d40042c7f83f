import fs from 'node:fs';
import path from 'node:path';
import { INHIBITIONS_FILE, loadInhibitions } from '../alerts/inhibition.file.js';
import { Catalog } from '../catalog/catalog.js';
import type { FileProblem, FileResult } from '../config/yaml-file.js';
import { loadRoutes } from '../notify/routes.js';
import { loadRuleFiles } from './rule.loader.js';
import { loadRuleTestFile, RULE_TEST_SUFFIX } from './rule-test.loader.js';
import { loadRulesDir } from './rules.runtime.js';

/** What `rules check` found: a summary line per folder or kind of file, and every problem. */
export interface CheckReport {
  readonly summary: readonly string[];
  readonly problems: readonly FileProblem[];
}

/**
 * Checks rules folders and single files, every problem of every one at once. A folder is checked as
 * the service loads it (catalog, rule files, routes). A file by its name: `catalog.yaml`,
 * `recipients.yaml` (against the catalog beside it), `inhibitions.yaml`, a rule test `*.test.yaml` (loaded, not run),
 * anything else a rule file; rule files are checked together, so ids must be unique across them,
 * against the `catalog.yaml` beside them or else the one in `rulesDir`.
 */
export function checkRulePaths(paths: readonly string[], rulesDir: string): CheckReport {
  const summary: string[] = [];
  const problems: FileProblem[] = [];
  const ruleFiles = new Map<string, string[]>();
  for (const p of paths) {
    if (isDirectory(p)) {
      const loaded = loadRulesDir(path.resolve(p), new Date());
      if (!loaded.ok) problems.push(...loaded.problems);
      else {
        const { rules, files, routes, inhibitions, catalog, hash } = loaded.value;
        summary.push(
          `OK: ${rules.length} rules in ${files.length} files, ${routes.length} routes, ${inhibitions.length} inhibit rules, ${catalog.metrics.size} metrics (hash ${hash.slice(0, 12)})`,
        );
      }
      continue;
    }
    const name = path.basename(p);
    if (name === 'catalog.yaml') {
      const catalog = Catalog.load(path.dirname(p));
      if (!catalog.ok) problems.push(...catalog.problems);
      else summary.push(`OK: ${p}: ${catalog.value.types.size} types, ${catalog.value.metrics.size} metrics`);
    } else if (name === 'recipients.yaml') {
      const catalog = catalogFor(p, rulesDir);
      const routes = catalog.ok ? loadRoutes(path.dirname(p), catalog.value) : catalog;
      if (!routes.ok) problems.push(...routes.problems);
      else summary.push(`OK: ${p}: ${routes.value.length} routes`);
    } else if (name === INHIBITIONS_FILE) {
      const inhibitions = fs.existsSync(p)
        ? loadInhibitions(path.dirname(p))
        : { ok: false as const, problems: [{ file: p, path: '', message: 'no such file' }] };
      if (!inhibitions.ok) problems.push(...inhibitions.problems);
      else summary.push(`OK: ${p}: ${inhibitions.value.length} inhibit rules`);
    } else if (name.endsWith(RULE_TEST_SUFFIX)) {
      const suite = loadRuleTestFile(p);
      if (!suite.ok) problems.push(...suite.problems);
      else summary.push(`OK: ${p}: ${suite.value.tests.length} tests`);
    } else {
      const dir = catalogDirFor(p, rulesDir);
      ruleFiles.set(dir, [...(ruleFiles.get(dir) ?? []), p]);
    }
  }
  for (const [dir, files] of ruleFiles) {
    const catalog = Catalog.load(dir);
    const loaded = catalog.ok ? loadRuleFiles(files, catalog.value) : catalog;
    if (!loaded.ok) problems.push(...loaded.problems);
    else summary.push(`OK: ${loaded.value.rules.length} rules in ${files.length} files`);
  }
  return { summary, problems };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    // A missing file is reported by whatever reads it, with the reason.
    return false;
  }
}

/** The folder whose `catalog.yaml` a file is checked against: its own, or else `rulesDir`. */
function catalogDirFor(file: string, rulesDir: string): string {
  const own = path.dirname(file);
  return fs.existsSync(path.join(own, 'catalog.yaml')) ? own : rulesDir;
}

function catalogFor(file: string, rulesDir: string): FileResult<Catalog> {
  return Catalog.load(catalogDirFor(file, rulesDir));
}
