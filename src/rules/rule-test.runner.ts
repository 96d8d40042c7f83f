import type { ActiveAlert, Transition } from '../alerts/alert.types.js';
import { startOfZonedDay } from '../filing/zoned-day.js';
import { evaluate, type Filing, type InstitutionRef, type Observation } from './evaluate.js';
import { regionKey, regionOfAlert } from './rule.region-ref.js';
import { aggregateRegions } from './rule.region-totals.js';
import { type DiffLine, diffAlerts, diffTransitions } from './rule-test.diff.js';
import { stepText } from './rule-test.notation.js';
import { buildTimeline, type Step, stepInstant } from './rule-test.timeline.js';
import type { Arrival, RuleTest, RuleTestSuite, StepCheck } from './rule-test.types.js';

/** What went wrong at one step: a check that did not hold, or a rule that failed to evaluate. */
export interface StepFailure {
  /** The step's name: its period, or the day as written. */
  readonly at: string;
  readonly instant: Date;
  /** The check, `file:line:column`; absent for rule errors at a step with no check. */
  readonly where?: string;
  /** Differences in the active alerts; absent or empty when they agree. */
  readonly alerts?: readonly DiffLine[];
  readonly transitions?: readonly DiffLine[];
  /** `rule <id>: <error>` for every rule whose health was not ok at this step. */
  readonly errors?: readonly string[];
}

/** The outcome of one test. */
export interface RuleTestResult {
  readonly name: string;
  readonly where: string;
  readonly ok: boolean;
  /** In step order, then check order. */
  readonly failures: readonly StepFailure[];
  /** How many evaluations the test ran. */
  readonly steps: number;
}

/** The outcome of every test of a file. */
export interface RuleTestSuiteResult {
  readonly file: string;
  readonly timeZone: string;
  readonly ok: boolean;
  readonly tests: readonly RuleTestResult[];
}

/** Runs every test of a suite; pure and deterministic. */
export function runRuleTestSuite(suite: RuleTestSuite): RuleTestSuiteResult {
  const tests = suite.tests.map((test) => runRuleTest(suite, test));
  return { file: suite.file, timeZone: suite.timeZone, ok: tests.every((t) => t.ok), tests };
}

/**
 * Plays one test as production would see it: at each step (see `buildTimeline`) the values and
 * filings that arrive then are stored as a new submission per institution and period (a later value
 * for the same metric and period replaces the earlier one: a correction), derived metrics are
 * computed from the current values as an upload computes them, and every rule is evaluated with the
 * previous step's active alerts as `previous` and the step's instant as `now`. The test's institutions
 * are the whole population: peers are empty (every institution is in scope) and region totals are
 * aggregated from the current values over all of them (`aggregateRegions`). After each step the
 * checks at that step compare the active alerts and the transitions, within their filters, with
 * those expected; a rule that fails to evaluate fails the test at that step.
 */
export function runRuleTest(suite: RuleTestSuite, test: RuleTest): RuleTestResult {
  const { catalog, rules, timeZone } = suite;
  const { steps, startDay } = buildTimeline(test, catalog, timeZone);
  const institutions: InstitutionRef[] = test.institutions.map((i) => ({
    code: i.code,
    name: i.name,
    type: i.type,
    county: i.county,
    ...(i.attributes ? { attributes: i.attributes } : {}),
    // Filings are owed from the test's first period, unless the institution came later.
    establishedAt: startOfZonedDay(i.established ?? startDay, timeZone),
  }));
  const typeOf = new Map(institutions.map((i) => [i.code, i.type]));
  const instantOf = (step: { at: Arrival['at'] }) =>
    stepInstant(step.at, catalog.filingDeadlines, timeZone).getTime();
  const arrivals = groupBy(test.arrivals, instantOf);
  const checks = groupBy(test.checks, instantOf);

  const current = new Map<string, Observation>();
  const filings = new Map<string, Filing>();
  let submissionId = 0;
  let previous: ActiveAlert[] = [];
  const failures: StepFailure[] = [];
  for (const step of steps) {
    const arriving = arrivals.get(step.instant.getTime()) ?? [];
    // One submission per institution and period at a step, as one upload would carry them.
    const submissions = new Map<string, number>();
    for (const a of arriving) {
      const key = `${a.institution}\u0000${a.period}`;
      let id = submissions.get(key);
      if (id === undefined) {
        id = ++submissionId;
        submissions.set(key, id);
      }
      filings.set(key, { institution: a.institution, period: a.period, submissionId: id });
      if (a.metric !== undefined && a.value !== undefined) {
        current.set(`${key}\u0000${a.metric}`, {
          institution: a.institution,
          metric: a.metric,
          period: a.period,
          value: a.value,
          submissionId: id,
        });
      }
    }
    const observations = withDerived(current, filings, typeOf, catalog);
    const result = evaluate({
      rules,
      catalog,
      institutions,
      observations,
      filings: [...filings.values()],
      peers: { institutions: [], observations: [] },
      regionTotals: aggregateRegions(rules, catalog, institutions, observations),
      previous,
      timeZone,
      now: step.instant,
    });
    previous = result.active;
    const errors = result.health.filter((h) => !h.ok).map((h) => `rule ${h.ruleId}: ${h.error}`);
    const here = checks.get(step.instant.getTime()) ?? [];
    for (const check of here) {
      const failure = judge(check, step, result, errors);
      if (failure) failures.push(failure);
    }
    if (here.length === 0 && errors.length > 0)
      failures.push({ at: step.label, instant: step.instant, errors });
  }
  return { name: test.name, where: test.where, ok: failures.length === 0, failures, steps: steps.length };
}

/** The failure of one check at its step, or `undefined` when it holds. */
function judge(
  check: StepCheck,
  step: Step,
  result: { active: readonly ActiveAlert[]; transitions: readonly Transition[] },
  errors: readonly string[],
): StepFailure | undefined {
  const regionOf = (a: ActiveAlert) => {
    const region = regionOfAlert(a);
    return region && regionKey(region);
  };
  const within = (a: ActiveAlert) =>
    (check.rule === undefined || a.ruleId === check.rule) &&
    (check.institution === undefined || a.institution === check.institution) &&
    (check.region === undefined || (a.institution === null && regionOf(a) === check.region));
  const alerts = check.alerts ? diffAlerts(check.alerts, result.active.filter(within)) : [];
  const transitions = check.transitions
    ? diffTransitions(
        check.transitions,
        result.transitions.filter((t) => within(t.alert)),
      )
    : [];
  if (alerts.length === 0 && transitions.length === 0 && errors.length === 0) return undefined;
  return {
    at: stepText(check.at),
    instant: step.instant,
    where: check.where,
    ...(alerts.length > 0 ? { alerts } : {}),
    ...(transitions.length > 0 ? { transitions } : {}),
    ...(errors.length > 0 ? { errors } : {}),
  };
}

/**
 * The current values plus the metrics derived from them per institution and period, as an upload
 * derives them: only where not reported, from the values of the same institution and period.
 */
function withDerived(
  current: ReadonlyMap<string, Observation>,
  filings: ReadonlyMap<string, Filing>,
  typeOf: ReadonlyMap<string, string>,
  catalog: RuleTestSuite['catalog'],
): Observation[] {
  const observations = [...current.values()];
  const byFiling = groupBy(observations, (o) => `${o.institution}\u0000${o.period}`);
  for (const [key, reported] of byFiling) {
    const filing = filings.get(key);
    const type = typeOf.get(reported[0]?.institution ?? '');
    if (!filing || !type) continue;
    const values = Object.fromEntries(reported.map((o) => [o.metric, o.value]));
    for (const [metric, value] of Object.entries(catalog.derive(type, values))) {
      observations.push({
        institution: filing.institution,
        metric,
        period: filing.period,
        value,
        submissionId: filing.submissionId,
      });
    }
  }
  return observations;
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
