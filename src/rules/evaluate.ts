import type { ActiveAlert, Transition } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import { computeAlert } from './rule.alert.js';
import type { Rule } from './rule.schema.js';
import { assessSeries } from './rule.series.js';
import { resolveAlert, stepAlert } from './rule.transition.js';

/** What the evaluator needs to know about an institution. */
export interface InstitutionRef {
  code: string;
  name: string;
  type: string;
  county: string;
}

/** One value of one metric for one institution and period, from the current submission version. */
export interface Observation {
  institution: string;
  metric: string;
  period: string;
  value: number;
  submissionId: number | null;
}

/** Whether a rule evaluated cleanly; `error` is the message of what it threw. */
export interface RuleHealth {
  ruleId: string;
  ok: boolean;
  error?: string;
}

/** Everything one evaluation reads. `now` stamps transitions; the evaluator never reads the clock. */
export interface EvaluationInput {
  rules: readonly Rule[];
  catalog: Catalog;
  /** The institutions in scope; alerts of institutions not listed are carried over unchanged. */
  institutions: readonly InstitutionRef[];
  /** Current versions only, one per institution, metric and period. */
  observations: readonly Observation[];
  /** The active alerts owned by these rules before this evaluation. */
  previous: readonly ActiveAlert[];
  now: Date;
}

/** The alerts active after the evaluation, the transitions that got there, and each rule's health. */
export interface EvaluationResult {
  active: ActiveAlert[];
  transitions: Transition[];
  health: RuleHealth[];
}

/** The stable identity of an alert: `rule/institution/metric`, `*` standing for a regional alert. */
export function fingerprintOf(ruleId: string, institution: string | null, metric: string): string {
  return `${ruleId}/${institution ?? '*'}/${metric}`;
}

/**
 * Evaluates threshold rules over the institutions' series and moves the previous alerts along.
 * Pure and deterministic: outputs are sorted by fingerprint (health by rule id), and evaluating the
 * same input again with `previous` set to the returned `active` yields no transitions.
 *
 * - Each rule × listed institution whose type the rule covers is judged at the series' latest period.
 * - No observation for the metric: the previous alert stays as it is (lack of data never resolves).
 * - A rule that throws is isolated: its health carries the error and its previous alerts stay as
 *   they are, while the other rules run.
 * - A previous alert resolves when the latest period no longer breaches, when its rule is gone, or
 *   when the rule no longer covers the institution's type or the alert's metric.
 */
export function evaluate(input: EvaluationInput): EvaluationResult {
  const { rules, catalog, previous, now } = input;
  const institutions = new Map(input.institutions.map((i) => [i.code, i]));
  const series = indexSeries(input.observations);
  const previousByFingerprint = new Map(previous.map((a) => [a.fingerprint, a]));
  const active: ActiveAlert[] = [];
  const transitions: Transition[] = [];
  const health: RuleHealth[] = [];
  const decided = new Set<string>();

  for (const rule of rules) {
    // Collect into locals and commit only on success, so a rule failing halfway leaves no trace.
    const ruleActive: ActiveAlert[] = [];
    const ruleTransitions: Transition[] = [];
    const ruleDecided: string[] = [];
    try {
      const metric = catalog.metrics.get(rule.metric);
      if (!metric) throw new Error(`metric ${rule.metric} is not in the catalog`);
      for (const institution of institutions.values()) {
        if (!rule.types.includes(institution.type)) continue;
        const fingerprint = fingerprintOf(rule.id, institution.code, rule.metric);
        const prev = previousByFingerprint.get(fingerprint);
        ruleDecided.push(fingerprint);
        const assessment = assessSeries(
          rule,
          series.get(seriesKey(institution.code, rule.metric)) ?? [],
          metric.frequency,
        );
        if (!assessment) {
          if (prev) ruleActive.push(prev);
        } else if (!assessment.breached) {
          if (prev) ruleTransitions.push(resolveAlert(prev, now, assessment.latest));
        } else {
          const step = stepAlert(prev, computeAlert(fingerprint, rule, metric, institution, assessment), now);
          ruleActive.push(step.alert);
          if (step.transition) ruleTransitions.push(step.transition);
        }
      }
      active.push(...ruleActive);
      transitions.push(...ruleTransitions);
      for (const f of ruleDecided) decided.add(f);
      health.push({ ruleId: rule.id, ok: true });
    } catch (error) {
      health.push({
        ruleId: rule.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
      for (const prev of previous) {
        if (prev.ruleId !== rule.id) continue;
        active.push(prev);
        decided.add(prev.fingerprint);
      }
    }
  }

  const rulesById = new Map(rules.map((r) => [r.id, r]));
  for (const prev of previous) {
    if (decided.has(prev.fingerprint)) continue;
    const rule = rulesById.get(prev.ruleId);
    const institution = prev.institution === null ? undefined : institutions.get(prev.institution);
    // An institution outside this evaluation's scope (or a regional alert) is not judged here.
    const stillApplies =
      rule !== undefined &&
      rule.metric === prev.metric &&
      (institution === undefined || rule.types.includes(institution.type));
    if (stillApplies) active.push(prev);
    else transitions.push(resolveAlert(prev, now));
  }

  const byFingerprint = (a: { fingerprint: string }, b: { fingerprint: string }) =>
    compare(a.fingerprint, b.fingerprint);
  active.sort(byFingerprint);
  transitions.sort((a, b) => byFingerprint(a.alert, b.alert));
  health.sort((a, b) => compare(a.ruleId, b.ruleId));
  return { active, transitions, health };
}

function seriesKey(institution: string, metric: string): string {
  return `${institution}\u0000${metric}`;
}

/** Groups observations by institution and metric. */
function indexSeries(observations: readonly Observation[]): Map<string, Observation[]> {
  const index = new Map<string, Observation[]>();
  for (const o of observations) {
    const key = seriesKey(o.institution, o.metric);
    const list = index.get(key);
    if (list) list.push(o);
    else index.set(key, [o]);
  }
  return index;
}

/** Code-unit order, independent of the locale, so outputs sort the same everywhere. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
