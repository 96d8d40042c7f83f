import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.js';
import { AppError, type ProblemDetail } from '../http/app-error.js';
import { monthsInRange, type Replay, replay } from '../rules/replay.js';
import type { AlertView } from './alert.repository.js';
import type { ActiveAlert, Transition, TransitionKind } from './alert.types.js';
import {
  loadCurrentObservations,
  loadInstitutionRefs,
  type RulesSnapshot,
  ruleMetrics,
} from './evaluation.service.js';

/**
 * How much one replay may cover. It holds every observation of the institutions in scope in memory and
 * evaluates every rule over all of them once a month: 36 months of a city's 500 institutions answer
 * within seconds; more is a batch job, not a request.
 */
export const REPLAY_LIMITS = { periods: 36, institutions: 500 } as const;

const MONTH = /^(19|2\d)\d{2}-(0[1-9]|1[0-2])$/;
const month = z.string().regex(MONTH, 'must be a month such as 2024-06').meta({ example: '2024-01' });

/** A replay request, as the API body and the CLI options both give it. */
export const replayRequestSchema = z
  .strictObject({
    from: month.meta({ description: 'First month replayed' }),
    to: month.meta({ description: 'Last month replayed, not before `from`' }),
    institutions: z
      .array(z.string().trim().min(1))
      .min(1)
      .optional()
      .meta({ description: 'Institution codes to replay; all registered institutions when absent' }),
  })
  // Months compare as text; a month that is not one is reported by itself, not as out of order too.
  .refine((r) => !MONTH.test(r.from) || !MONTH.test(r.to) || r.from <= r.to, {
    message: 'must not come before from',
    path: ['to'],
  });
export type ReplayRequest = z.output<typeof replayRequestSchema>;

/** An alert as a replay reports it. */
export type ReplayAlertView = Pick<
  AlertView,
  | 'rule'
  | 'institution'
  | 'metric'
  | 'severity'
  | 'value'
  | 'threshold'
  | 'period'
  | 'first_period'
  | 'periods'
> & { readonly state: string };

/** One transition that would have happened, with the alert after it. */
export interface ReplayTransitionView extends ReplayAlertView {
  readonly kind: TransitionKind;
  readonly from: string | null;
}

/** What a replay answers (the API body and the CLI's JSON). */
export interface ReplayReport {
  readonly rules_hash: string;
  readonly from: string;
  readonly to: string;
  readonly institutions: number;
  readonly rules: readonly string[];
  readonly skipped_rules: readonly { readonly rule: string; readonly reason: string }[];
  readonly initial: readonly ReplayAlertView[];
  readonly timeline: readonly {
    readonly period: string;
    readonly transitions: readonly ReplayTransitionView[];
    readonly errors: readonly { readonly rule: string; readonly error: string }[];
  }[];
  readonly final: readonly ReplayAlertView[];
  readonly totals: Partial<Record<TransitionKind, number>>;
}

/**
 * Replays `snapshot`'s rules over the stored history of some institutions (see {@link replay}) and
 * reports what would have happened. Writes nothing, notifies no one: the history is read in one
 * read-only transaction (also one consistent snapshot of it).
 * @throws AppError 422 `replay_too_large` past {@link REPLAY_LIMITS}, naming the limit;
 *   422 `unknown_institution` for codes that are not registered.
 */
export async function replayHistory(
  db: Kysely<Database>,
  snapshot: RulesSnapshot,
  request: ReplayRequest,
): Promise<ReplayReport> {
  const periods = monthsInRange(request.from, request.to);
  if (periods > REPLAY_LIMITS.periods) {
    throw tooLarge({
      code: 'too_many_periods',
      field: 'to',
      limit: { name: 'periods', value: REPLAY_LIMITS.periods },
      message: `${request.from} to ${request.to} is ${periods} months; a replay covers at most ${REPLAY_LIMITS.periods}`,
    });
  }
  const requested = request.institutions ? [...new Set(request.institutions)] : undefined;
  if (requested && requested.length > REPLAY_LIMITS.institutions) {
    throw tooLarge({
      code: 'too_many_institutions',
      field: 'institutions',
      limit: { name: 'institutions', value: REPLAY_LIMITS.institutions },
      message: `${requested.length} institutions were named; a replay covers at most ${REPLAY_LIMITS.institutions}`,
    });
  }
  const result = await db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const codes = requested ?? (await allCodes(trx));
      if (!requested && codes.length > REPLAY_LIMITS.institutions) {
        throw tooLarge({
          code: 'too_many_institutions',
          field: 'institutions',
          limit: { name: 'institutions', value: REPLAY_LIMITS.institutions },
          message: `${codes.length} institutions are registered; name at most ${REPLAY_LIMITS.institutions} in institutions`,
        });
      }
      const institutions = await loadInstitutionRefs(trx, codes, snapshot.timeZone);
      if (requested) rejectUnknown(requested, new Set(institutions.map((i) => i.code)));
      const observations = await loadCurrentObservations(trx, codes, [...ruleMetrics(snapshot.rules)]);
      return {
        institutions: institutions.length,
        // Naming institutions leaves out the rest of the population: rules judging against it are skipped.
        replayed: replay({
          ...snapshot,
          institutions,
          observations,
          from: request.from,
          to: request.to,
          subset: requested !== undefined,
        }),
      };
    });
  return toReport(snapshot, request, result.institutions, result.replayed);
}

async function allCodes(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('institutions').select('code').orderBy('code').execute()).map((r) => r.code);
}

function tooLarge(detail: ProblemDetail): AppError {
  return AppError.unprocessable('replay_too_large', detail.message, [detail]);
}

function rejectUnknown(requested: readonly string[], known: ReadonlySet<string>): void {
  const unknown = requested
    .map((code, i) => ({ code, i }))
    .filter(({ code }) => !known.has(code))
    .map(({ code, i }) => ({
      code: 'unknown_institution',
      path: `institutions.${i}`,
      value: code,
      message: `no institution ${code} is registered`,
    }));
  if (unknown.length > 0)
    throw AppError.unprocessable('unknown_institution', 'Some institutions are not registered', unknown);
}

function toReport(
  snapshot: RulesSnapshot,
  request: ReplayRequest,
  institutions: number,
  result: Replay,
): ReplayReport {
  const totals: Partial<Record<TransitionKind, number>> = {};
  for (const step of result.steps)
    for (const t of step.transitions) totals[t.kind] = (totals[t.kind] ?? 0) + 1;
  const skipped = new Set(result.skipped.map((s) => s.ruleId));
  return {
    rules_hash: snapshot.hash,
    from: request.from,
    to: request.to,
    institutions,
    rules: snapshot.rules.filter((r) => !skipped.has(r.id)).map((r) => r.id),
    skipped_rules: result.skipped.map((s) => ({ rule: s.ruleId, reason: s.reason })),
    initial: result.initial.map((a) => toAlertView(a)),
    timeline: result.steps.map((step) => ({
      period: step.period,
      transitions: step.transitions.map(toTransitionView),
      errors: step.errors.map((e) => ({ rule: e.ruleId, error: e.error })),
    })),
    final: result.final.map((a) => toAlertView(a)),
    totals,
  };
}

const finite = (n: number) => (Number.isFinite(n) ? n : null);

function toAlertView(a: ActiveAlert, state: string = a.state): ReplayAlertView {
  return {
    rule: a.ruleId,
    institution: a.institution,
    metric: a.metric,
    state,
    severity: a.severity,
    value: finite(a.value),
    threshold: finite(a.threshold),
    period: a.period,
    first_period: a.firstPeriod,
    periods: a.periods,
  };
}

function toTransitionView(t: Transition): ReplayTransitionView {
  return { kind: t.kind, from: t.from, ...toAlertView(t.alert, t.to) };
}
