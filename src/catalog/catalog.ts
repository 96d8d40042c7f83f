import path from 'node:path';
import { Environment } from '@marcbachmann/cel-js';
import { type FileProblem, type FileResult, loadYamlFile } from '../config/yaml-file.js';
import type { FilingDeadlines } from '../filing/deadline.js';
import {
  type CatalogFile,
  type CountyDef,
  catalogFileSchema,
  type InstitutionAttributeDef,
  type InstitutionTypeDef,
  type MetricDef,
  type ValidationDef,
} from './catalog.schema.js';
import { FREQUENCIES } from './period.js';

/** A derived metric, compiled: the metric codes it reads and a function computing it. */
export interface CompiledFormula {
  readonly metric: string;
  readonly inputs: readonly string[];
  readonly compute: (values: Readonly<Record<string, number>>) => number;
}

/** A cross-field consistency check, compiled: the metrics it reads and whether it holds for given values. */
export interface CompiledCheck {
  readonly id: string;
  readonly inputs: readonly string[];
  readonly severity: 'error' | 'warning';
  readonly message: { readonly zh: string; readonly en: string };
  readonly expression: string;
  readonly holds: (values: Readonly<Record<string, number>>) => boolean;
}

/** Upload validation settings from the catalog, with consistency checks compiled. */
export interface ValidationPolicy {
  readonly jumpFactor: number;
  readonly ratioTolerance: number;
  readonly checks: readonly CompiledCheck[];
}

/**
 * The validated vocabulary: institution types, counties and metrics, with lookups and derived
 * metric formulas compiled once. Immutable; reload by building a new one.
 */
export class Catalog {
  readonly types: ReadonlyMap<string, InstitutionTypeDef>;
  readonly counties: ReadonlyMap<string, CountyDef>;
  /** The institution attributes institutions may carry and rules may select by. */
  readonly attributes: ReadonlyMap<string, InstitutionAttributeDef>;
  readonly metrics: ReadonlyMap<string, MetricDef>;
  /** Metrics by their zh or en name, for header aliases. */
  readonly metricsByName: ReadonlyMap<string, MetricDef>;
  /** Derived metrics in an order where each one's inputs come before it. */
  readonly formulas: readonly CompiledFormula[];
  /** When each frequency's data is due; present for every frequency a metric uses. */
  readonly filingDeadlines: FilingDeadlines;
  readonly validation: ValidationPolicy;

  private constructor(file: CatalogFile, formulas: CompiledFormula[], checks: CompiledCheck[]) {
    this.types = new Map(file.institution_types.map((t) => [t.code, t]));
    this.counties = new Map(file.counties.map((c) => [c.code, c]));
    this.attributes = new Map(file.institution_attributes.map((a) => [a.code, a]));
    this.metrics = new Map(file.metrics.map((m) => [m.code, m]));
    this.metricsByName = new Map(
      file.metrics.flatMap((m) => [[m.name.zh, m] as const, [m.name.en.toLowerCase(), m] as const]),
    );
    this.formulas = formulas;
    this.filingDeadlines = Object.freeze(
      Object.fromEntries(
        FREQUENCIES.flatMap((f) => {
          const d = file.filing_deadlines[f];
          return d ? [[f, Object.freeze({ daysAfterPeriodEnd: d.days_after_period_end })]] : [];
        }),
      ),
    );
    this.validation = {
      jumpFactor: file.validation.jump_factor,
      ratioTolerance: file.validation.ratio_tolerance,
      checks,
    };
  }

  /** Whether an institution of `type` reports `metric`. */
  reports(type: string, metric: string): boolean {
    return this.metrics.get(metric)?.types.includes(type) ?? false;
  }

  /** Whether an institution of `type` may carry attribute `attribute`. */
  carries(type: string, attribute: string): boolean {
    return this.attributes.get(attribute)?.types.includes(type) ?? false;
  }

  /** Metrics reported by one institution type, in catalog order. */
  metricsFor(type: string): MetricDef[] {
    return [...this.metrics.values()].filter((m) => m.types.includes(type));
  }

  /**
   * Computes derived metrics for one institution and period from the values given, skipping any
   * that were reported directly, lack an input, or come out non-finite (a zero denominator).
   * @returns only the newly derived values.
   */
  derive(type: string, reported: Readonly<Record<string, number>>): Record<string, number> {
    // No copy of the reported values: a bulk import derives for tens of thousands of drafts.
    const derived: Record<string, number> = {};
    const value = (metric: string) => derived[metric] ?? reported[metric];
    for (const f of this.formulas) {
      if (value(f.metric) !== undefined || !this.reports(type, f.metric)) continue;
      if (!f.inputs.every((i) => value(i) !== undefined)) continue;
      const inputs: Record<string, number> = {};
      for (const i of f.inputs) inputs[i] = value(i) as number;
      const result = f.compute(inputs);
      if (Number.isFinite(result)) derived[f.metric] = result;
    }
    return derived;
  }

  /** Whether {@link derive} could add anything for these reported metrics (without building a record). */
  mayDerive(type: string, reported: readonly string[]): boolean {
    return this.formulas.some((f) => this.reports(type, f.metric) && !reported.includes(f.metric));
  }

  /** Builds a catalog from parsed file content, reporting every cross-reference problem at once. */
  static fromFile(file: CatalogFile, fileName = 'catalog.yaml'): FileResult<Catalog> {
    const problems: FileProblem[] = [];
    const problem = (p: string, message: string) => problems.push({ file: fileName, path: p, message });
    const duplicates = (items: { code: string }[], where: string) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item.code)) problem(`${where}[${i}].code`, `duplicate code ${item.code}`);
        seen.add(item.code);
      });
    };
    duplicates(file.institution_types, 'institution_types');
    duplicates(file.counties, 'counties');
    duplicates(file.institution_attributes, 'institution_attributes');
    duplicates(file.metrics, 'metrics');

    const typeCodes = new Set(file.institution_types.map((t) => t.code));
    file.institution_attributes.forEach((a, i) => {
      a.types.forEach((t, k) => {
        if (!typeCodes.has(t))
          problem(`institution_attributes[${i}].types[${k}]`, `unknown institution type ${t}`);
      });
    });
    // Names are upload header aliases: two metrics with one name would make a header ambiguous.
    const names = new Map<string, string>();
    file.metrics.forEach((m, i) => {
      for (const [lang, name] of [
        ['zh', m.name.zh],
        ['en', m.name.en.toLowerCase()],
      ] as const) {
        const first = names.get(name);
        if (first) problem(`metrics[${i}].name.${lang}`, `name ${name} is already the name of ${first}`);
        else names.set(name, m.code);
      }
    });
    const metricCodes = file.metrics.map((m) => m.code);
    const env = new Environment();
    for (const m of metricCodes) env.registerVariable(m, 'double');

    const metricsByCode = new Map(file.metrics.map((d) => [d.code, d]));
    const compiled = new Map<string, CompiledFormula>();
    file.metrics.forEach((m, i) => {
      for (const t of m.types)
        if (!typeCodes.has(t)) problem(`metrics[${i}].types`, `unknown institution type ${t}`);
      if (!m.formula) return;
      const checked = env.check(m.formula);
      if (!checked.valid) {
        problem(`metrics[${i}].formula`, checked.error?.message.split('\n')[0] ?? 'invalid formula');
        return;
      }
      if (checked.type !== 'double') {
        problem(`metrics[${i}].formula`, `must compute a double, not ${checked.type}`);
        return;
      }
      const inputs = metricCodes.filter((c) => new RegExp(`\\b${c}\\b`).test(m.formula ?? ''));
      if (inputs.includes(m.code)) {
        problem(`metrics[${i}].formula`, 'must not refer to the metric itself');
        return;
      }
      // A formula is computed from one institution's values for one period: its inputs must be of the
      // metric's frequency and reported by every type that reports the metric.
      let usable = true;
      for (const input of inputs) {
        const def = metricsByCode.get(input);
        if (def && def.frequency !== m.frequency) {
          problem(
            `metrics[${i}].formula`,
            `${input} is ${def.frequency}, ${m.code} is ${m.frequency}: one period cannot hold both`,
          );
          usable = false;
        }
        const missing = m.types.filter((t) => !def?.types.includes(t));
        if (def && missing.length > 0) {
          problem(`metrics[${i}].formula`, `${missing.join(', ')} report ${m.code} but not ${input}`);
          usable = false;
        }
      }
      if (!usable) return;
      const run = env.parse(m.formula);
      compiled.set(m.code, {
        metric: m.code,
        inputs,
        compute: (values) => Number(run(Object.fromEntries(inputs.map((k) => [k, values[k]])))),
      });
    });

    // Every frequency in use needs a deadline, or missing-filing checks could not say when data is late.
    for (const frequency of FREQUENCIES) {
      const users = file.metrics.filter((m) => m.frequency === frequency).map((m) => m.code);
      if (users.length > 0 && !file.filing_deadlines[frequency]) {
        problem(
          `filing_deadlines.${frequency}`,
          `missing: ${frequency} metrics (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', …' : ''}) need a filing deadline`,
        );
      }
    }

    const ordered = orderFormulas(compiled);
    if (!ordered) problem('metrics', 'derived metric formulas refer to each other in a cycle');
    const checks = compileChecks(file.validation, env, metricCodes, problem);
    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, value: new Catalog(file, ordered ?? [], checks) };
  }

  /** Loads `catalog.yaml` from a rules directory. */
  static load(rulesDir: string): FileResult<Catalog> {
    const file = path.join(rulesDir, 'catalog.yaml');
    const parsed = loadYamlFile(file, catalogFileSchema);
    return parsed.ok ? Catalog.fromFile(parsed.value, file) : parsed;
  }
}

function compileChecks(
  validation: ValidationDef,
  env: Environment,
  metricCodes: readonly string[],
  problem: (path: string, message: string) => void,
): CompiledCheck[] {
  const checks: CompiledCheck[] = [];
  validation.checks.forEach((c, i) => {
    const checked = env.check(c.assert);
    if (!checked.valid || checked.type !== 'bool') {
      problem(
        `validation.checks[${i}].assert`,
        checked.valid
          ? `must be a condition (bool), not ${checked.type}`
          : (checked.error?.message.split('\n')[0] ?? 'invalid'),
      );
      return;
    }
    // In the order the expression names them: a failed check points at its first metric.
    const position = (m: string) => c.assert.search(new RegExp(`\\b${m}\\b`));
    const inputs = metricCodes.filter((m) => position(m) >= 0).sort((a, b) => position(a) - position(b));
    const run = env.parse(c.assert);
    checks.push({
      id: c.id,
      inputs,
      severity: c.severity,
      message: c.message,
      expression: c.assert,
      holds: (values) => run(Object.fromEntries(inputs.map((k) => [k, values[k]]))) === true,
    });
  });
  return checks;
}

/** Topological order of formulas over their derived inputs; `undefined` when they form a cycle. */
function orderFormulas(formulas: Map<string, CompiledFormula>): CompiledFormula[] | undefined {
  const ordered: CompiledFormula[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (code: string): boolean => {
    const f = formulas.get(code);
    if (!f || state.get(code) === 'done') return true;
    if (state.get(code) === 'visiting') return false;
    state.set(code, 'visiting');
    if (!f.inputs.every(visit)) return false;
    state.set(code, 'done');
    ordered.push(f);
    return true;
  };
  for (const code of formulas.keys()) if (!visit(code)) return undefined;
  return ordered;
}
