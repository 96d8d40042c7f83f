import type { ActiveState, Severity, TransitionKind } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Rule } from './rule.schema.js';
import type { StepRef } from './rule-test.notation.js';

/**
 * A rule test file as the runner takes it: references checked, notations expanded, rules and
 * catalog loaded. Built by `resolveRuleTests` (rule-test.parser.ts); `where` texts are
 * `file:line:column` of what they describe, for reports.
 */
export interface RuleTestSuite {
  readonly file: string;
  readonly rules: readonly Rule[];
  readonly catalog: Catalog;
  /** The regulator's zone, where deadlines and days fall. */
  readonly timeZone: string;
  readonly tests: readonly RuleTest[];
}

/** One test: institutions, what reaches the regulator at which step, and what must hold at which step. */
export interface RuleTest {
  readonly name: string;
  readonly where: string;
  readonly institutions: readonly TestInstitution[];
  /** In the order written; a later arrival for the same value replaces an earlier one. */
  readonly arrivals: readonly Arrival[];
  readonly checks: readonly StepCheck[];
}

/** An institution of a test; `established` (a day) is when it starts owing filings. */
export interface TestInstitution {
  readonly code: string;
  readonly name: string;
  readonly type: string;
  readonly county: string;
  readonly established?: string;
  /** The attributes it carries, as the catalog declares them. */
  readonly attributes?: Readonly<Record<string, boolean>>;
}

/**
 * Something that reaches the regulator at a step: a value of a metric for a period (which files the
 * period), or a filing alone (listed under `filings`, with no metric).
 */
export interface Arrival {
  readonly at: StepRef;
  readonly institution: string;
  readonly period: string;
  readonly metric?: string;
  readonly value?: number;
}

/**
 * What must hold after the evaluation at a step, among the alerts of `rule` and `institution` (or
 * `region`, `<scope>:<code>`) when given.
 */
export interface StepCheck {
  readonly at: StepRef;
  readonly where: string;
  readonly rule?: string;
  readonly institution?: string;
  readonly region?: string;
  /** Exactly the active alerts expected; absent: not checked. */
  readonly alerts?: readonly ExpectedAlert[];
  /** Exactly the transitions expected at this step; absent: not checked. */
  readonly transitions?: readonly ExpectedTransition[];
}

/** An expected active alert; optional fields are compared only when given. */
export interface ExpectedAlert {
  /**
   * The fingerprint the alert must have: rule, institution, and metric or (missing filing) period; for a
   * region-aggregate alert, rule, `*` and region.
   */
  readonly fingerprint: string;
  readonly rule: string;
  /** `null` for a region-aggregate alert, which has a `region` instead. */
  readonly institution: string | null;
  readonly region?: string;
  readonly state: ActiveState;
  readonly severity: Severity;
  readonly period?: string;
  readonly value?: number;
  readonly threshold?: number;
  readonly firstPeriod?: string;
  readonly periods?: number;
  readonly summary?: { readonly zh?: string; readonly en?: string };
}

/** An expected transition; optional fields are compared only when given. */
export interface ExpectedTransition {
  readonly fingerprint: string;
  readonly kind: TransitionKind;
  readonly rule: string;
  readonly institution: string | null;
  readonly region?: string;
  readonly period?: string;
  readonly severity?: Severity;
  readonly value?: number;
}
