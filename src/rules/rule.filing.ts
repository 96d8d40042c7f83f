import type { ActiveAlert, AlertExplanation, Localized, Transition } from '../alerts/alert.types.js';
import type { Catalog } from '../catalog/catalog.js';
import { FREQUENCIES, type Frequency } from '../catalog/period.js';
import { daysOverdue, filingDueDay, periodEndsAt, periodsDue } from '../filing/deadline.js';
import type { InstitutionRef, Observation } from './evaluate.js';
import { fingerprintOf } from './rule.alert.js';
import { explanation } from './rule.explain.js';
import type { MissingFilingRule, Rule } from './rule.schema.js';
import { coverageOf } from './rule.scope.js';
import { renderFilingSummary } from './rule.template.js';
import { resolveAlert, stepAlert } from './rule.transition.js';

/** A current submission: the institution filed data for the period. */
export interface Filing {
  institution: string;
  period: string;
  submissionId: number | null;
}

/**
 * The `metric` a missing-filing alert carries: `filing:monthly` or `filing:quarterly`. The colon keeps
 * it apart from every catalog metric code (lower_snake_case), so an alert tells by its metric which
 * kind of rule it belongs to.
 */
export function filingMetric(frequency: Frequency): string {
  return `filing:${frequency}`;
}

/** What a missing-filing alert is about, shown where a threshold alert shows its metric's name. */
export const FILING_NAMES: Readonly<Record<Frequency, Localized>> = {
  monthly: { zh: '月度数据报送', en: 'Monthly filing' },
  quarterly: { zh: '季度数据报送', en: 'Quarterly filing' },
};

/** The frequency of a missing-filing alert's metric; `undefined` for a threshold alert's metric. */
export function filingFrequencyOf(metric: string): Frequency | undefined {
  return FREQUENCIES.find((f) => filingMetric(f) === metric);
}

/** The `metric` of the alerts a rule raises: its metric, or `filing:<frequency>` for a missing filing. */
export function alertMetricOf(rule: Rule): string {
  return rule.kind === 'missing_filing' ? filingMetric(rule.frequency) : rule.metric;
}

/** What a missing-filing evaluation needs besides the rule; indexes are built once per evaluation. */
export interface FilingContext {
  readonly catalog: Catalog;
  readonly institutions: readonly InstitutionRef[];
  /** Current submissions by institution, then period. */
  readonly filings: ReadonlyMap<string, ReadonlyMap<string, Filing>>;
  /** Previous alerts by rule id, then institution. */
  readonly previousByRule: ReadonlyMap<string, ReadonlyMap<string, readonly ActiveAlert[]>>;
  readonly now: Date;
  readonly timeZone: string;
}

/** What one rule decided: alerts to keep active, transitions, and the previous alerts (fingerprints) it judged. */
export interface RuleOutcome {
  readonly active: ActiveAlert[];
  readonly transitions: Transition[];
  readonly decided: string[];
}

/**
 * The filings a set of observations stands for: each institution and period with a value, its newest
 * submission (a replay's or a test's data, where no submissions are stored).
 */
export function filingsFrom(observations: readonly Observation[]): Filing[] {
  const filings = new Map<string, Filing>();
  for (const o of observations) {
    const key = filingKey(o.institution, o.period);
    const seen = filings.get(key);
    if (!seen || (o.submissionId ?? -1) > (seen.submissionId ?? -1))
      filings.set(key, { institution: o.institution, period: o.period, submissionId: o.submissionId });
  }
  return [...filings.values()];
}

/** Index key of a filing: institution and period. */
export function filingKey(institution: string, period: string): string {
  return `${institution}\u0000${period}`;
}

/**
 * Judges one missing-filing rule for every listed institution it covers (its types, and its `where`). The periods judged are
 * the rule's `lookback` latest periods whose deadline has passed at `now`, less those that ended
 * before the institution existed (`establishedAt`), plus the periods of the institution's active
 * alerts of this rule (a filing still missing stays an alert after its period leaves the window).
 * A period with a filing resolves its alert; one without fires at once, its value the days overdue.
 * @throws when the catalog has no deadline for the rule's frequency or a template fails to render.
 */
export function evaluateFilingRule(rule: MissingFilingRule, ctx: FilingContext): RuleOutcome {
  const { catalog, now, timeZone } = ctx;
  const deadlines = catalog.filingDeadlines;
  const metric = filingMetric(rule.frequency);
  const due = periodsDue(rule.frequency, now, deadlines, timeZone, rule.lookback);
  const endsAt = due.map((period) => periodEndsAt(period, timeZone).getTime());
  // The oldest period ends first: an institution that existed by then is expected to file them all.
  const oldestEnd = Math.min(...endsAt);
  const facts = new Map<string, { dueDate: string; daysOverdue: number }>();
  const factsOf = (period: string) => {
    let f = facts.get(period);
    if (!f) {
      f = {
        dueDate: filingDueDay(period, deadlines),
        daysOverdue: daysOverdue(period, now, deadlines, timeZone),
      };
      facts.set(period, f);
    }
    return f;
  };

  const outcome: RuleOutcome = { active: [], transitions: [], decided: [] };
  const covers = coverageOf(rule);
  const mine = ctx.previousByRule.get(rule.id);
  for (const institution of ctx.institutions) {
    if (!covers(institution)) continue;
    const since = institution.establishedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    // Expected: the institution existed when the period ended (balances are reported as at its end).
    let periods: readonly string[] =
      since < oldestEnd ? due : due.filter((_, i) => since < (endsAt[i] as number));
    const previous = mine?.get(institution.code);
    if (previous) {
      // A filing still missing stays judged after its period leaves the window.
      const extra = previous.filter((a) => a.metric === metric && !periods.includes(a.period));
      if (extra.length > 0) periods = [...periods, ...extra.map((a) => a.period)];
    }
    const filed = ctx.filings.get(institution.code);
    for (const period of periods) {
      const prev = previous?.find((a) => a.metric === metric && a.period === period);
      // Only a previous alert needs to be marked judged (see evaluate()).
      if (prev) outcome.decided.push(prev.fingerprint);
      const { dueDate, daysOverdue: days } = factsOf(period);
      const filing = filed?.get(period);
      if (filing) {
        if (prev) {
          const why = explainFiling(rule, period, dueDate, days, filing.submissionId);
          outcome.transitions.push(
            resolveAlert(prev, now, { period, value: days, submissionId: filing.submissionId }, why),
          );
        }
        continue;
      }
      const summary = renderFilingSummary(rule.summary, {
        institution: institution.code,
        institutionName: institution.name,
        period,
        frequency: rule.frequency,
        dueDate,
        daysOverdue: days,
        severity: rule.severity,
      });
      const step = stepAlert(
        prev,
        {
          fingerprint: prev?.fingerprint ?? fingerprintOf(rule.id, institution.code, period),
          ruleId: rule.id,
          institution: institution.code,
          metric,
          state: 'firing',
          severity: rule.severity,
          value: days,
          threshold: 0,
          period,
          firstPeriod: period,
          periods: 1,
          submissionId: null,
          summary,
          source: rule.source,
          explanation: explainFiling(rule, period, dueDate, days, null),
        },
        now,
      );
      outcome.active.push(step.alert);
      if (step.transition) outcome.transitions.push(step.transition);
    }
  }
  return outcome;
}

/**
 * A missing filing explained: the days overdue against 0, the period, its due day, and on a resolution
 * the submission that filed it (the value then stays the days it came late).
 */
function explainFiling(
  rule: MissingFilingRule,
  period: string,
  dueDate: string,
  days: number,
  filedBy: number | null,
): AlertExplanation {
  return explanation({
    rule,
    quantity: { metric: filingMetric(rule.frequency), name: 'days_overdue', unit: 'days' },
    period,
    value: days,
    op: '>',
    threshold: 0,
    thresholds: {
      levels: [{ severity: rule.severity, threshold: 0 }],
      recovery: undefined,
      override: undefined,
    },
    run: { first_period: period, periods: 1, for: 1, kept_since: null },
    periods: [{ period, value: days, judged: null, submission_id: filedBy }],
    detail: {
      kind: 'missing_filing',
      frequency: rule.frequency,
      due_date: dueDate,
      days_overdue: days,
      filed_submission_id: filedBy,
    },
  });
}

/**
 * The periods whose filings an evaluation of these rules will look up: every missing-filing rule's
 * window at `now` and the periods of its active alerts. Load the current submissions of the
 * institutions evaluated for these periods and pass them as `filings`; a rule this cannot place (no
 * deadline for its frequency) is skipped here and reports its error when evaluated.
 */
export function filingPeriodsToLoad(input: {
  readonly rules: readonly Rule[];
  readonly catalog: Catalog;
  readonly previous: readonly ActiveAlert[];
  readonly now: Date;
  readonly timeZone: string;
}): string[] {
  const periods = new Set<string>();
  const filingRules = new Map<string, string>();
  for (const rule of input.rules) {
    if (rule.kind !== 'missing_filing') continue;
    filingRules.set(rule.id, filingMetric(rule.frequency));
    try {
      const due = periodsDue(
        rule.frequency,
        input.now,
        input.catalog.filingDeadlines,
        input.timeZone,
        rule.lookback,
      );
      for (const p of due) periods.add(p);
    } catch {
      // Reported by the evaluation, which isolates the rule.
    }
  }
  for (const prev of input.previous) {
    if (filingRules.get(prev.ruleId) === prev.metric) periods.add(prev.period);
  }
  return [...periods].sort();
}
