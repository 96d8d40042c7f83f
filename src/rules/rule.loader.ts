import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Catalog } from '../catalog/catalog.js';
import { parsePeriod } from '../catalog/period.js';
import { type FileProblem, type FileResult, parseYaml } from '../config/yaml-file.js';
import { quotientOf } from './rule.region-ref.js';
import {
  type RegionComponents,
  type Rule,
  type RuleDef,
  ruleFileSchema,
  ruleSchema,
  sortLevels,
} from './rule.schema.js';

/** The rules loaded from a rules folder, with a hash identifying exactly what was loaded. */
export interface RuleSet {
  /** Every rule, in file order then file position. */
  readonly rules: readonly Rule[];
  /** sha256 (hex) over each file's name and contents, in file order: changes whenever a file does. */
  readonly hash: string;
  /** The files read: sorted by name when read from a folder. */
  readonly files: readonly string[];
}

/** Suffix that marks a rule file; other files in the folder (such as `catalog.yaml`) are not rules. */
export const RULE_FILE_SUFFIX = '.rules.yaml';

type Key = string | number;

/**
 * Reads every `*.rules.yaml` in `rulesDir` (sorted by name) and validates it against the schema and
 * the catalog. Every problem of every file comes back in one pass, each with file, path and line:
 * schema errors, unknown metrics, types or institution attributes (in `where` and overrides), a type that does not report the metric (or, for a
 * missing-filing rule, no metric of its frequency), duplicate rule ids
 * across files, unknown template placeholders and thresholds out of order. Never throws for content;
 * on any problem no rule set is returned, so a caller reloading keeps its previous rules.
 */
export function loadRuleSet(rulesDir: string, catalog: Catalog): FileResult<RuleSet> {
  let names: string[];
  try {
    names = fs
      .readdirSync(rulesDir)
      .filter((n) => n.endsWith(RULE_FILE_SUFFIX))
      .sort();
  } catch (error) {
    return { ok: false, problems: [{ file: rulesDir, path: '', message: (error as Error).message }] };
  }
  return loadRuleFiles(
    names.map((n) => path.join(rulesDir, n)),
    catalog,
  );
}

/**
 * Reads and validates the given rule files, in the order given, as {@link loadRuleSet} does for a
 * folder's: every problem of every file in one pass, rule ids unique across all of them. For
 * `rules check <files>` and rule unit tests, which name their rule files.
 */
export function loadRuleFiles(files: readonly string[], catalog: Catalog): FileResult<RuleSet> {
  const hash = createHash('sha256');
  const seenIds = new Map<string, string>();
  const rules: Rule[] = [];
  const problems: FileProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      problems.push({ file, path: '', message: (error as Error).message });
      continue;
    }
    // The NUL separators keep `a` + `bc` and `ab` + `c` from hashing alike.
    hash.update(`${path.basename(file)}\0${text}\0`);
    const checked = checkRuleFile(file, text, catalog, seenIds);
    rules.push(...checked.rules);
    problems.push(...checked.problems);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { rules, hash: hash.digest('hex'), files: [...files] } };
}

/**
 * Validates one rule file's text, as {@link loadRuleSet} does for each file; duplicate ids are
 * checked within this file only. Meant for tests and for checking a file before it is saved.
 */
export function parseRuleFile(file: string, text: string, catalog: Catalog): FileResult<Rule[]> {
  const { rules, problems } = checkRuleFile(file, text, catalog, new Map());
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: rules };
}

/**
 * Schema problems, located by the YAML document's nodes, plus the cross-reference problems of every
 * rule that passes its own schema, so one broken rule does not hide the problems of the others.
 */
function checkRuleFile(
  file: string,
  text: string,
  catalog: Catalog,
  seenIds: Map<string, string>,
): { rules: Rule[]; problems: FileProblem[] } {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
    // Syntax errors leave nothing reliable to check further; parseYaml reports them with their lines.
    if (doc.errors.length > 0) {
      const syntax = parseYaml(file, text, ruleFileSchema);
      return { rules: [], problems: syntax.ok ? [] : syntax.problems };
    }
    const problems: FileProblem[] = [];
    const at = (keys: Key[], message: string, line = lineOf(doc, lineCounter, keys)) => {
      problems.push({ file, path: formatPath(keys), ...(line ? { line } : {}), message });
    };
    const raw: unknown = doc.toJS({ maxAliasCount: 100 });
    const schema = ruleFileSchema.safeParse(raw);
    for (const issue of schema.success ? [] : schema.error.issues) {
      const keys = issue.path.filter((k): k is Key => typeof k !== 'symbol');
      if (issue.code !== 'unrecognized_keys') {
        at(keys, issue.message);
        continue;
      }
      // Point at each unknown key itself (a typo such as `sumary`), not at the mapping holding it.
      for (const key of issue.keys)
        at([...keys, key], `unknown key "${key}"`, keyLine(doc, lineCounter, keys, key));
    }
    const rules: Rule[] = [];
    const groups = asArray(asRecord(raw)?.groups);
    groups.forEach((rawGroup, g) => {
      const group = asRecord(rawGroup);
      const name = typeof group?.name === 'string' ? group.name : '';
      asArray(group?.rules).forEach((rawRule, r) => {
        const where: Key[] = ['groups', g, 'rules', r];
        const id = asRecord(rawRule)?.id;
        if (typeof id === 'string') {
          const first = seenIds.get(id);
          if (first) at([...where, 'id'], `duplicate rule id ${id}, first defined at ${first}`);
          else seenIds.set(id, `${file}:${lineOf(doc, lineCounter, [...where, 'id']) ?? '?'}`);
        }
        const parsed = ruleSchema.safeParse(rawRule);
        if (!parsed.success) return; // already reported by the file schema
        const def = parsed.data;
        for (const [keys, message] of crossReferenceProblems(def, catalog)) at([...where, ...keys], message);
        rules.push(
          def.kind === 'threshold' || def.kind === 'change' || def.kind === 'peer_outlier'
            ? { ...def, levels: sortLevels(def.levels), group: name, file }
            : def.kind === 'region_aggregate'
              ? {
                  ...def,
                  levels: sortLevels(def.levels),
                  // A rule whose components cannot be found is refused below, with its problem.
                  components: regionComponents(def, catalog) ?? { numerator: '', denominator: '', scale: 1 },
                  group: name,
                  file,
                }
              : def.kind === 'expression'
                ? {
                    ...def,
                    ...(def.levels ? { levels: sortLevels(def.levels) } : {}),
                    inputs: expressionInputs(def.condition ?? def.value ?? '', catalog),
                    group: name,
                    file,
                  }
                : def.kind === 'missing_data'
                  ? { ...def, inputs: [def.metric], group: name, file }
                  : { ...def, group: name, file },
        );
      });
    });
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    return { rules: problems.length > 0 ? [] : rules, problems };
  } catch (error) {
    // Only pathological YAML gets here (for instance an alias bomb); report it like any other problem.
    return { rules: [], problems: [{ file, path: '', message: (error as Error).message }] };
  }
}

/** Problems of a schema-valid rule against the catalog, as (path below the rule, message) pairs. */
function crossReferenceProblems(rule: RuleDef, catalog: Catalog): [Key[], string][] {
  const found: [Key[], string][] = attributeProblems(rule, catalog);
  if (rule.kind === 'missing_filing') {
    // A type that reports nothing of this frequency has nothing to file for it.
    rule.types.forEach((type, i) => {
      if (!catalog.types.has(type)) found.push([['types', i], `unknown institution type ${type}`]);
      else if (!catalog.metricsFor(type).some((m) => m.frequency === rule.frequency)) {
        found.push([['types', i], `institution type ${type} reports no ${rule.frequency} metric`]);
      }
    });
    if (!catalog.filingDeadlines[rule.frequency]) {
      found.push([['frequency'], `catalog.yaml has no filing deadline for ${rule.frequency} periods`]);
    }
    return found;
  }
  if (rule.kind === 'expression') found.push(...expressionProblems(rule, catalog));
  if (rule.kind === 'region_aggregate') found.push(...regionProblems(rule, catalog));
  const metricKnown = catalog.metrics.has(rule.metric);
  if (!metricKnown) found.push([['metric'], `unknown metric ${rule.metric}`]);
  rule.types.forEach((type, i) => {
    if (!catalog.types.has(type)) found.push([['types', i], `unknown institution type ${type}`]);
    else if (metricKnown && !catalog.reports(type, rule.metric)) {
      found.push([['types', i], `institution type ${type} does not report metric ${rule.metric}`]);
    }
  });
  const frequency = catalog.metrics.get(rule.metric)?.frequency;
  const overrides = 'overrides' in rule ? rule.overrides : [];
  overrides.forEach((o, i) => {
    for (const key of ['from', 'until'] as const) {
      const text = o[key];
      // An override dated in another frequency's periods would never apply.
      if (frequency && text && parsePeriod(text)?.frequency !== frequency) {
        found.push([
          ['overrides', i, key],
          `${key} ${text} is not a ${frequency} period, as ${rule.metric} is`,
        ]);
      }
    }
  });
  return found;
}

type RegionDef = Extract<RuleDef, { kind: 'region_aggregate' }>;

/**
 * The attributes a rule's `where` and its overrides select by must be declared in the catalog, as
 * booleans. A `where` attribute must be one every type of the rule may carry (a type that cannot carry it
 * would be listed for nothing); an override's, one that some type of the rule may carry.
 */
function attributeProblems(rule: RuleDef, catalog: Catalog): [Key[], string][] {
  const found: [Key[], string][] = [];
  const declared = (code: string, at: Key[]): boolean => {
    if (catalog.attributes.has(code)) return true;
    const known = [...catalog.attributes.keys()];
    found.push([
      at,
      `unknown institution attribute ${code}; known: ${known.length > 0 ? known.join(', ') : '(none declared in catalog.yaml)'}`,
    ]);
    return false;
  };
  const carriers = (code: string) => catalog.attributes.get(code)?.types.join(', ') ?? '';
  for (const code of Object.keys(rule.where?.attributes ?? {})) {
    const at: Key[] = ['where', 'attributes', code];
    if (!declared(code, at)) continue;
    for (const type of rule.types) {
      if (catalog.types.has(type) && !catalog.carries(type, code)) {
        found.push([
          at,
          `institution type ${type} cannot carry attribute ${code} (declared for ${carriers(code)})`,
        ]);
      }
    }
  }
  const overrides = 'overrides' in rule ? rule.overrides : [];
  overrides.forEach((o, i) => {
    for (const code of Object.keys(o.attributes ?? {})) {
      const at: Key[] = ['overrides', i, 'attributes', code];
      if (!declared(code, at)) continue;
      if (!rule.types.some((type) => catalog.carries(type, code))) {
        found.push([
          at,
          `none of the rule's types can carry attribute ${code} (declared for ${carriers(code)})`,
        ]);
      }
    }
  });
  return found;
}

/**
 * What a region-aggregate rule sums: its own `numerator`, `denominator` (and `scale`, default 1), or else
 * the components of its metric's formula when that is a plain quotient; `undefined` when neither.
 */
function regionComponents(rule: RegionDef, catalog: Catalog): RegionComponents | undefined {
  if (rule.numerator !== undefined && rule.denominator !== undefined)
    return { numerator: rule.numerator, denominator: rule.denominator, scale: rule.scale ?? 1 };
  const formula = catalog.metrics.get(rule.metric)?.formula;
  return formula ? quotientOf(formula) : undefined;
}

/**
 * A region-aggregate rule's components: found (given, or a plain-quotient formula), catalog metrics of
 * the metric's frequency, reported by every type of the rule (or that type could never be a member).
 */
function regionProblems(rule: RegionDef, catalog: Catalog): [Key[], string][] {
  const metric = catalog.metrics.get(rule.metric);
  if (!metric) return []; // reported as an unknown metric
  const components = regionComponents(rule, catalog);
  if (!components) {
    return [
      [
        ['metric'],
        metric.formula
          ? `the formula of ${rule.metric} (${metric.formula}) is not a plain quotient a / b [* k]: give numerator and denominator (and scale)`
          : `${rule.metric} has no formula to aggregate: give numerator and denominator (and scale)`,
      ],
    ];
  }
  const explicit = rule.numerator !== undefined;
  const found: [Key[], string][] = [];
  for (const part of ['numerator', 'denominator'] as const) {
    const code = components[part];
    const at: Key[] = explicit ? [part] : ['metric'];
    const component = catalog.metrics.get(code);
    if (!component) {
      found.push([
        at,
        `unknown metric ${code}${explicit ? '' : ` (the ${part} of ${rule.metric}'s formula)`}`,
      ]);
      continue;
    }
    if (component.frequency !== metric.frequency) {
      found.push([
        at,
        `${code} is ${component.frequency}, ${rule.metric} is ${metric.frequency}: one period cannot hold both`,
      ]);
    }
    for (const type of rule.types) {
      if (catalog.types.has(type) && !catalog.reports(type, code))
        found.push([at, `institution type ${type} does not report ${code}`]);
    }
  }
  return found;
}

/** The metric codes an expression names, in the catalog's order. */
function expressionInputs(expression: string, catalog: Catalog): string[] {
  return [...catalog.metrics.keys()].filter((code) => new RegExp(`\\b${code}\\b`).test(expression));
}

/**
 * An expression rule's CEL, type-checked with every catalog metric a double: a condition must be a
 * bool, a value a double, and each metric it reads must be of the rule metric's frequency and reported by
 * every type of the rule (or the rule could never be judged for that type).
 */
function expressionProblems(
  rule: Extract<RuleDef, { kind: 'expression' }>,
  catalog: Catalog,
): [Key[], string][] {
  const found: [Key[], string][] = [];
  const key = rule.condition !== undefined ? 'condition' : 'value';
  const expression = rule.condition ?? rule.value ?? '';
  const env = new Environment();
  for (const code of catalog.metrics.keys()) env.registerVariable(code, 'double');
  const checked = env.check(expression);
  const want = key === 'condition' ? 'bool' : 'double';
  if (!checked.valid) found.push([[key], checked.error?.message.split('\n')[0] ?? 'invalid expression']);
  else if (checked.type !== want) found.push([[key], `must be a ${want}, not ${checked.type}`]);
  const frequency = catalog.metrics.get(rule.metric)?.frequency;
  for (const input of expressionInputs(expression, catalog)) {
    const metric = catalog.metrics.get(input);
    if (frequency && metric && metric.frequency !== frequency) {
      found.push([
        [key],
        `${input} is ${metric.frequency}, ${rule.metric} is ${frequency}: one period cannot hold both`,
      ]);
    }
    for (const type of rule.types) {
      if (catalog.types.has(type) && !catalog.reports(type, input)) {
        found.push([[key], `institution type ${type} does not report ${input}`]);
      }
    }
  }
  return found;
}

/** The line of the deepest existing node on `keys`, the way parseYaml locates zod issues. */
function lineOf(doc: Document, lineCounter: LineCounter, keys: Key[]): number | undefined {
  for (let depth = keys.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(keys.slice(0, depth), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** The line of key `key` in the mapping at `keys`. */
function keyLine(doc: Document, lineCounter: LineCounter, keys: Key[], key: string): number | undefined {
  const map = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
  const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
  const range = isScalar(pair?.key) ? pair.key.range : undefined;
  return range ? lineCounter.linePos(range[0]).line : lineOf(doc, lineCounter, keys);
}

/** `['groups', 0, 'rules', 2, 'levels']` → `groups[0].rules[2].levels`, matching parseYaml. */
function formatPath(keys: Key[]): string {
  return keys
    .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
    .join('')
    .replace(/^\./, '');
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
