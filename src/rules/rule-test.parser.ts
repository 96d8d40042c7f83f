import { LineCounter, parseDocument } from 'yaml';
import type { Catalog } from '../catalog/catalog.js';
import { mustParsePeriod, shiftPeriodText } from '../catalog/period.js';
import type { FileProblem, FileResult } from '../config/yaml-file.js';
import { formatKeyPath, type YamlKey, YamlLocator } from '../config/yaml-locate.js';
import { periodEndsAt } from '../filing/deadline.js';
import { fingerprintOf } from './rule.alert.js';
import { parseRegionKey, regionKey } from './rule.region-ref.js';
import type { Rule } from './rule.schema.js';
import { ruleCovers } from './rule.scope.js';
import {
  parsePeriodList,
  parseSeriesValues,
  parseStepRef,
  type StepRef,
  stepText,
} from './rule-test.notation.js';
import {
  type ExpectedAlertDef,
  type ExpectedTransitionDef,
  type RuleTestDef,
  type RuleTestFileDef,
  ruleTestFileSchema,
  type TestInstitutionDef,
} from './rule-test.schema.js';
import { stepInstant } from './rule-test.timeline.js';
import type {
  Arrival,
  ExpectedAlert,
  ExpectedTransition,
  RuleTest,
  RuleTestSuite,
  StepCheck,
  TestInstitution,
} from './rule-test.types.js';

/** A test file whose shape is valid, and how to find where its parts were written. */
export interface RuleTestDocument {
  readonly file: string;
  readonly def: RuleTestFileDef;
  readonly locator: YamlLocator;
}

/**
 * Parses a rule test file's text and checks its shape, every problem at once with its line and
 * column (unknown keys at the key itself). Never throws for bad content.
 */
export function readRuleTestDocument(file: string, text: string): FileResult<RuleTestDocument> {
  const lineCounter = new LineCounter();
  try {
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const locator = new YamlLocator(doc, lineCounter, text);
    if (doc.errors.length > 0) {
      return {
        ok: false,
        problems: doc.errors.map((e) => ({
          file,
          path: '',
          ...locator.position(e.pos[0]),
          message: e.message.split('\n')[0] ?? e.message,
        })),
      };
    }
    const parsed = ruleTestFileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
    if (parsed.success) return { ok: true, value: { file, def: parsed.data, locator } };
    const problems: FileProblem[] = [];
    for (const issue of parsed.error.issues) {
      const keys = issue.path.filter((k): k is YamlKey => typeof k !== 'symbol');
      if (issue.code !== 'unrecognized_keys') {
        problems.push({ file, path: formatKeyPath(keys), ...locator.at(keys), message: issue.message });
        continue;
      }
      // Point at each unknown key itself (a typo such as `exp_alert`), not at the mapping holding it.
      for (const key of issue.keys) {
        const where = [...keys, key];
        problems.push({
          file,
          path: formatKeyPath(where),
          ...locator.keyAt(keys, key),
          message: `unknown key "${key}"`,
        });
      }
    }
    return { ok: false, problems: sortProblems(problems) };
  } catch (error) {
    // Only pathological YAML gets here (an alias bomb, say); report it like any other problem.
    return { ok: false, problems: [{ file, path: '', message: (error as Error).message }] };
  }
}

/**
 * Checks a test file's references against the catalog and the rules it loads, expands its notations
 * and returns the suite the runner takes; every problem at once, with line and column (within a
 * values string, at the token). Pure: the caller has loaded catalog and rules.
 */
export function resolveRuleTests(
  document: RuleTestDocument,
  loaded: { readonly catalog: Catalog; readonly rules: readonly Rule[] },
): FileResult<RuleTestSuite> {
  const { file, def, locator } = document;
  const problems: FileProblem[] = [];
  const report: Report = (keys, message, offset) =>
    problems.push({ file, path: formatKeyPath(keys), ...locator.at(keys, offset), message });
  const where = (keys: YamlKey[]) => {
    const at = locator.at(keys);
    return at ? `${file}:${at.line}:${at.column}` : file;
  };
  const context: Context = {
    ...loaded,
    timeZone: def.time_zone,
    rulesById: new Map(loaded.rules.map((r) => [r.id, r])),
    report,
  };

  const shared = checkInstitutions(def.institutions, ['institutions'], new Map(), context);
  const tests = def.tests.map((test, i) => resolveTest(test, ['tests', i], shared, context, where));
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return {
    ok: true,
    value: { file, rules: loaded.rules, catalog: loaded.catalog, timeZone: def.time_zone, tests },
  };
}

type Report = (keys: YamlKey[], message: string, offset?: number) => void;

/** A value an input series gives: where, and when it arrives, so overlaps and corrections can be checked. */
interface Given {
  readonly keys: YamlKey[];
  readonly at: StepRef;
  readonly instant: number;
}

interface Context {
  readonly catalog: Catalog;
  readonly rules: readonly Rule[];
  readonly rulesById: ReadonlyMap<string, Rule>;
  readonly timeZone: string;
  readonly report: Report;
}

function resolveTest(
  test: RuleTestDef,
  at: YamlKey[],
  shared: ReadonlyMap<string, TestInstitution>,
  context: Context,
  where: (keys: YamlKey[]) => string,
): RuleTest {
  const institutions = checkInstitutions(test.institutions, [...at, 'institutions'], shared, context);
  if (institutions.size === 0)
    context.report(at, 'no institutions: declare them under institutions, for the file or the test');
  const arrivals: Arrival[] = [];
  const given = new Map<string, Given>();
  test.input_series.forEach((series, j) => {
    arrivals.push(...seriesArrivals(series, [...at, 'input_series', j], institutions, given, context));
  });
  test.filings.forEach((filing, j) => {
    const keys: YamlKey[] = [...at, 'filings', j];
    const institution = knownInstitution(filing.institution, [...keys, 'institution'], institutions, context);
    const list = parsePeriodList(filing.periods);
    if (!list.ok) {
      context.report([...keys, 'periods'], list.message, list.offset);
      return;
    }
    for (const entry of list.value) {
      const frequency = mustParsePeriod(entry.period).frequency;
      if (
        institution &&
        !context.catalog.metricsFor(institution.type).some((m) => m.frequency === frequency)
      ) {
        context.report(
          [...keys, 'periods'],
          `institution type ${institution.type} files no ${frequency} data`,
          entry.offset,
        );
        continue;
      }
      const arrives = entry.arrives ?? { kind: 'period', period: entry.period };
      if (arrivesBeforeEnd(entry.period, arrives, [...keys, 'periods'], entry.offset, context)) continue;
      arrivals.push({ at: arrives, institution: filing.institution, period: entry.period });
    }
  });
  const checks = test.alert_rule_test.map((check, j): StepCheck => {
    const keys: YamlKey[] = [...at, 'alert_rule_test', j];
    const stepAt = parseStepRef(check.at) as StepRef;
    instantOf(stepAt, [...keys, 'at'], context);
    if (check.rule !== undefined) knownRule(check.rule, [...keys, 'rule'], context);
    if (check.institution !== undefined)
      knownInstitution(check.institution, [...keys, 'institution'], institutions, context);
    if (check.institution !== undefined && check.region !== undefined)
      context.report([...keys, 'region'], 'a check names an institution or a region, not both');
    const checkRegion =
      check.region === undefined ? undefined : knownRegion(check.region, [...keys, 'region'], context);
    const filter = { rule: check.rule, institution: check.institution, region: checkRegion };
    return {
      at: stepAt,
      where: where(keys),
      ...(check.rule !== undefined ? { rule: check.rule } : {}),
      ...(check.institution !== undefined ? { institution: check.institution } : {}),
      ...(checkRegion !== undefined ? { region: checkRegion } : {}),
      ...(check.exp_alerts
        ? { alerts: expectedAlerts(check.exp_alerts, [...keys, 'exp_alerts'], filter, institutions, context) }
        : {}),
      ...(check.exp_transitions
        ? {
            transitions: expectedTransitions(
              check.exp_transitions,
              [...keys, 'exp_transitions'],
              filter,
              institutions,
              context,
            ),
          }
        : {}),
    };
  });
  return { name: test.name, where: where(at), institutions: [...institutions.values()], arrivals, checks };
}

/** The institutions declared at `keys`, added to `inherited`; problems for unknown types and counties. */
function checkInstitutions(
  defs: readonly TestInstitutionDef[],
  keys: YamlKey[],
  inherited: ReadonlyMap<string, TestInstitution>,
  context: Context,
): Map<string, TestInstitution> {
  const institutions = new Map(inherited);
  defs.forEach((def, j) => {
    const at: YamlKey[] = [...keys, j];
    if (institutions.has(def.code)) {
      const where = inherited.has(def.code) ? ' at the top of the file' : '';
      context.report([...at, 'code'], `institution ${def.code} is already declared${where}`);
      return;
    }
    if (!context.catalog.types.has(def.type))
      context.report([...at, 'type'], `unknown institution type ${def.type}`);
    if (!context.catalog.counties.has(def.county))
      context.report([...at, 'county'], `unknown county ${def.county}`);
    for (const code of Object.keys(def.attributes ?? {})) {
      const declared = context.catalog.attributes.get(code);
      if (!declared) {
        const known = [...context.catalog.attributes.keys()].join(', ');
        context.report([...at, 'attributes', code], `unknown institution attribute ${code}; known: ${known}`);
      } else if (context.catalog.types.has(def.type) && !declared.types.includes(def.type)) {
        context.report(
          [...at, 'attributes', code],
          `institution type ${def.type} cannot carry attribute ${code} (declared for ${declared.types.join(', ')})`,
        );
      }
    }
    const { established, attributes, ...rest } = def;
    institutions.set(def.code, {
      ...rest,
      ...(established ? { established } : {}),
      ...(attributes ? { attributes } : {}),
    });
  });
  return institutions;
}

/** What one input series brings, value by value, with its corrections; `given` spots overlaps. */
function seriesArrivals(
  series: RuleTestDef['input_series'][number],
  keys: YamlKey[],
  institutions: ReadonlyMap<string, TestInstitution>,
  given: Map<string, Given>,
  context: Context,
): Arrival[] {
  const { catalog, report } = context;
  const institution = knownInstitution(series.institution, [...keys, 'institution'], institutions, context);
  const metric = catalog.metrics.get(series.metric);
  if (!metric) report([...keys, 'metric'], `unknown metric ${series.metric}`);
  else if (institution && !catalog.reports(institution.type, metric.code))
    report([...keys, 'metric'], `institution type ${institution.type} does not report metric ${metric.code}`);
  const start = mustParsePeriod(series.start);
  if (metric && start.frequency !== metric.frequency) {
    report(
      [...keys, 'start'],
      `${metric.code} is reported ${metric.frequency}: start must be a ${metric.frequency} period such as ${metric.frequency === 'monthly' ? '2024-01' : '2024-Q1'}`,
    );
    return [];
  }
  const values = parseSeriesValues(series.values);
  if (!values.ok) {
    report([...keys, 'values'], values.message, values.offset);
    return [];
  }
  const arrivals: Arrival[] = [];
  const valueKeys = [...keys, 'values'];
  const outOfRange = (value: number) => {
    const range = metric?.range;
    if (
      !range ||
      ((range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max))
    )
      return undefined;
    return `${value} is outside the range of ${metric?.code} (${range.min ?? '-∞'} to ${range.max ?? '∞'})`;
  };
  for (const point of values.value) {
    if (point.value === null) continue;
    const period = shiftPeriodText(series.start, point.index);
    const problem = outOfRange(point.value);
    if (problem) {
      report(valueKeys, problem, point.offset);
      continue;
    }
    const at = point.arrives ?? { kind: 'period', period };
    if (arrivesBeforeEnd(period, at, valueKeys, point.offset, context)) continue;
    const key = `${series.institution}\u0000${series.metric}\u0000${period}`;
    const first = given.get(key);
    if (first) {
      report(
        valueKeys,
        `${series.metric} of ${series.institution} for ${period} is already given at ${formatKeyPath(first.keys)}`,
        point.offset,
      );
      continue;
    }
    given.set(key, { keys: valueKeys, at, instant: instantOf(at, valueKeys, context) ?? 0 });
    arrivals.push({ at, institution: series.institution, period, metric: series.metric, value: point.value });
  }
  const corrected = new Map<string, number>();
  for (const [k, correction] of series.corrections.entries()) {
    const at: YamlKey[] = [...keys, 'corrections', k];
    if (metric && mustParsePeriod(correction.period).frequency !== metric.frequency) {
      report(
        [...at, 'period'],
        `${metric.code} is reported ${metric.frequency}: ${correction.period} is not a ${metric.frequency} period`,
      );
      continue;
    }
    const problem = outOfRange(correction.value);
    if (problem) {
      report([...at, 'value'], problem);
      continue;
    }
    const arrives = parseStepRef(correction.at) as StepRef;
    if (arrivesBeforeEnd(correction.period, arrives, [...at, 'at'], undefined, context)) continue;
    const instant = instantOf(arrives, [...at, 'at'], context);
    if (instant === undefined) continue;
    const key = `${series.institution}\u0000${series.metric}\u0000${correction.period}`;
    const original = given.get(key);
    if (original && instant <= original.instant) {
      report(
        [...at, 'at'],
        `a correction must arrive after the value it corrects, which arrives at ${stepText(original.at)}`,
      );
      continue;
    }
    if (corrected.get(key) === instant) {
      report([...at, 'at'], `${correction.period} is corrected twice at ${correction.at}`);
      continue;
    }
    corrected.set(key, instant);
    arrivals.push({
      at: arrives,
      institution: series.institution,
      period: correction.period,
      metric: series.metric,
      value: correction.value,
    });
  }
  return arrivals;
}

/** Reports (and returns true) when a value would arrive before its period has even ended. */
function arrivesBeforeEnd(
  period: string,
  at: StepRef,
  keys: YamlKey[],
  offset: number | undefined,
  context: Context,
): boolean {
  const instant = instantOf(at, keys, context, offset);
  if (instant === undefined) return true;
  if (instant >= periodEndsAt(period, context.timeZone).getTime()) return false;
  context.report(keys, `${period} cannot arrive at ${stepText(at)}, before the period ends`, offset);
  return true;
}

/** A step's instant in milliseconds, or a problem when the catalog has no deadline for its frequency. */
function instantOf(at: StepRef, keys: YamlKey[], context: Context, offset?: number): number | undefined {
  try {
    return stepInstant(at, context.catalog.filingDeadlines, context.timeZone).getTime();
  } catch (error) {
    context.report(keys, (error as Error).message, offset);
    return undefined;
  }
}

function knownInstitution(
  code: string,
  keys: YamlKey[],
  institutions: ReadonlyMap<string, TestInstitution>,
  context: Context,
): TestInstitution | undefined {
  const institution = institutions.get(code);
  if (!institution) context.report(keys, `unknown institution ${code}: declare it under institutions`);
  return institution;
}

function knownRule(id: string, keys: YamlKey[], context: Context): Rule | undefined {
  const rule = context.rulesById.get(id);
  if (!rule) {
    const known = context.rules.map((r) => r.id).join(', ');
    context.report(keys, `unknown rule ${id}; the rule files define: ${known}`);
  }
  return rule;
}

interface Filter {
  readonly rule: string | undefined;
  readonly institution: string | undefined;
  /** A region in its canonical text, `<scope>:<code>`. */
  readonly region: string | undefined;
}

/** A region as a test writes it, `<scope>:<code>`, in its canonical text; a problem when it is none. */
function knownRegion(text: string, keys: YamlKey[], context: Context): string | undefined {
  const region = parseRegionKey(text);
  if (!region) {
    context.report(keys, `${text} is not a region: write county:<county>, type:<type> or city:*`);
    return undefined;
  }
  if (region.scope === 'county' && !context.catalog.counties.has(region.code)) {
    context.report(keys, `unknown county ${region.code}`);
    return undefined;
  }
  if (region.scope === 'type' && !context.catalog.types.has(region.code)) {
    context.report(keys, `unknown institution type ${region.code}`);
    return undefined;
  }
  return regionKey(region);
}

/** An expectation's identity: rule, institution or region, and the fingerprint the alert must have. */
interface Identity {
  readonly rule: string;
  readonly institution: string | null;
  readonly region?: string;
  readonly fingerprint: string;
}

/**
 * The rule, institution (or region) and fingerprint of an expected alert or transition: each taken from
 * the entry or else from the check's filter, and within it. A missing-filing alert needs its period,
 * which tells the alerts of one rule and institution apart; a region-aggregate alert has a region and no
 * institution.
 */
function identify(
  entry: {
    rule?: string | undefined;
    institution?: string | undefined;
    region?: string | undefined;
    period?: string | undefined;
  },
  keys: YamlKey[],
  filter: Filter,
  institutions: ReadonlyMap<string, TestInstitution>,
  context: Context,
): Identity | undefined {
  let ok = true;
  const pick = (field: 'rule' | 'institution' | 'region', own: string | undefined) => {
    const given = filter[field];
    if (own !== undefined && given !== undefined && own !== given) {
      context.report([...keys, field], `${field} ${own} is outside this check's ${field}: ${given}`);
      ok = false;
    }
    const value = own ?? given;
    if (value === undefined) {
      context.report(keys, `which ${field}? give ${field} here or on the check`);
      ok = false;
    }
    return value;
  };
  const ruleId = pick('rule', entry.rule);
  // An unknown id given on the check has been reported there already.
  const rule =
    entry.rule !== undefined
      ? knownRule(entry.rule, [...keys, 'rule'], context)
      : ruleId && context.rulesById.get(ruleId);
  if (rule && rule.kind === 'region_aggregate') {
    if (entry.institution !== undefined || filter.institution !== undefined) {
      context.report(keys, `rule ${rule.id} aggregates regions: name a region, not an institution`);
      return undefined;
    }
    const own =
      entry.region === undefined ? undefined : knownRegion(entry.region, [...keys, 'region'], context);
    if (entry.region !== undefined && own === undefined) return undefined;
    const region = pick('region', own);
    if (!ok || region === undefined || ruleId === undefined) return undefined;
    const ref = parseRegionKey(region);
    if (ref && !rule.by.includes(ref.scope)) {
      context.report(keys, `rule ${rule.id} aggregates by ${rule.by.join(', ')}, not by ${ref.scope}`);
      return undefined;
    }
    if (ref?.scope === 'type' && !rule.types.includes(ref.code)) {
      context.report(keys, `rule ${rule.id} does not cover type ${ref.code}`);
      return undefined;
    }
    return { rule: ruleId, institution: null, region, fingerprint: fingerprintOf(ruleId, null, region) };
  }
  if (entry.region !== undefined || (rule && filter.region !== undefined)) {
    context.report(
      [...keys, entry.region !== undefined ? 'region' : 'rule'],
      'a region is for region-aggregate rules; this one judges institutions',
    );
    return undefined;
  }
  const code = pick('institution', entry.institution);
  const institution =
    entry.institution !== undefined
      ? knownInstitution(entry.institution, [...keys, 'institution'], institutions, context)
      : code && institutions.get(code);
  if (!ok || !rule || !institution || ruleId === undefined || code === undefined) return undefined;
  if (!rule.types.includes(institution.type)) {
    // Such an expectation could never be met: say why rather than let it fail as a missing alert.
    context.report(keys, `rule ${rule.id} does not cover ${code}, of type ${institution.type}`);
    return undefined;
  }
  if (!ruleCovers(rule, institution)) {
    const filter = Object.entries(rule.where?.attributes ?? {})
      .map(([a, v]) => `${a}: ${v}`)
      .join(', ');
    context.report(
      keys,
      `rule ${rule.id} does not cover ${code}: it judges only institutions with ${filter}`,
    );
    return undefined;
  }
  if (rule.kind === 'missing_filing') {
    if (entry.period === undefined) {
      context.report(keys, `period is required for ${rule.id}: a missing-filing alert is about one period`);
      return undefined;
    }
    return { rule: ruleId, institution: code, fingerprint: fingerprintOf(ruleId, code, entry.period) };
  }
  return { rule: ruleId, institution: code, fingerprint: fingerprintOf(ruleId, code, rule.metric) };
}

function expectedAlerts(
  defs: readonly ExpectedAlertDef[],
  keys: YamlKey[],
  filter: Filter,
  institutions: ReadonlyMap<string, TestInstitution>,
  context: Context,
): ExpectedAlert[] {
  const seen = new Set<string>();
  return defs.flatMap((def, k): ExpectedAlert[] => {
    const at = [...keys, k];
    const id = identify(def, at, filter, institutions, context);
    if (!id) return [];
    if (seen.has(id.fingerprint)) {
      context.report(at, `alert ${id.fingerprint} is expected twice`);
      return [];
    }
    seen.add(id.fingerprint);
    return [
      {
        ...id,
        state: def.state,
        severity: def.severity,
        ...(def.period !== undefined ? { period: def.period } : {}),
        ...(def.value !== undefined ? { value: def.value } : {}),
        ...(def.threshold !== undefined ? { threshold: def.threshold } : {}),
        ...(def.first_period !== undefined ? { firstPeriod: def.first_period } : {}),
        ...(def.periods !== undefined ? { periods: def.periods } : {}),
        ...(def.summary !== undefined ? { summary: def.summary } : {}),
      },
    ];
  });
}

function expectedTransitions(
  defs: readonly ExpectedTransitionDef[],
  keys: YamlKey[],
  filter: Filter,
  institutions: ReadonlyMap<string, TestInstitution>,
  context: Context,
): ExpectedTransition[] {
  const seen = new Set<string>();
  return defs.flatMap((def, k): ExpectedTransition[] => {
    const at = [...keys, k];
    const id = identify(def, at, filter, institutions, context);
    if (!id) return [];
    if (seen.has(id.fingerprint)) {
      // One evaluation moves an alert once.
      context.report(at, `a transition of ${id.fingerprint} is expected twice`);
      return [];
    }
    seen.add(id.fingerprint);
    return [
      {
        ...id,
        kind: def.kind,
        ...(def.period !== undefined ? { period: def.period } : {}),
        ...(def.severity !== undefined ? { severity: def.severity } : {}),
        ...(def.value !== undefined ? { value: def.value } : {}),
      },
    ];
  });
}

/** By line and column, so problems read top to bottom whatever order they were found in. */
function sortProblems(problems: FileProblem[]): FileProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}
