import type { AlertLabel, AlertLabels } from './alert.labels.js';
import { SEVERITIES } from './alert.types.js';

/** A silence's states, in Alertmanager's words: not started yet, in force, or over. */
export const SILENCE_STATES = ['pending', 'active', 'expired'] as const;
export type SilenceState = (typeof SILENCE_STATES)[number];

/**
 * What a silence matches, each an exact value or `null` for any. An alert is silenced when every
 * matcher given equals its label (at least one is given). A regional alert has no institution, type
 * or county, so a silence naming one of those never matches it.
 */
export interface SilenceMatchers {
  readonly ruleId: string | null;
  readonly institution: string | null;
  readonly institutionType: string | null;
  readonly county: string | null;
  readonly severity: string | null;
}

/** The label each matcher compares with. */
export const SILENCE_MATCHER_LABELS: Readonly<Record<keyof SilenceMatchers, AlertLabel>> = {
  ruleId: 'rule',
  institution: 'institution',
  institutionType: 'institution_type',
  county: 'county',
  severity: 'severity',
};

/** A silence as stored. `expiredAt` is set when someone ended it before `endsAt`. */
export interface Silence extends SilenceMatchers {
  readonly id: number;
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly createdBy: string;
  readonly reason: string;
  readonly createdAt: Date;
  readonly expiredAt: Date | null;
  readonly expiredBy: string | null;
}

/** When a silence stops holding notifications back: its end, or when it was expired if earlier. */
export function silenceEnd(silence: Pick<Silence, 'endsAt' | 'expiredAt'>): Date {
  return silence.expiredAt && silence.expiredAt < silence.endsAt ? silence.expiredAt : silence.endsAt;
}

/** The state of a silence at `at`: active from `startsAt` (inclusive) until its end (exclusive). */
export function silenceState(
  silence: Pick<Silence, 'startsAt' | 'endsAt' | 'expiredAt'>,
  at: Date,
): SilenceState {
  if (at >= silenceEnd(silence)) return 'expired';
  return at < silence.startsAt ? 'pending' : 'active';
}

/** Whether every matcher the silence gives equals the alert's label (time is not considered). */
export function silenceMatches(silence: SilenceMatchers, labels: AlertLabels): boolean {
  for (const [matcher, label] of Object.entries(SILENCE_MATCHER_LABELS) as [
    keyof SilenceMatchers,
    AlertLabel,
  ][]) {
    const wanted = silence[matcher];
    if (wanted !== null && labels[label] !== wanted) return false;
  }
  return true;
}

/** The ids of the silences active at `at` that match the labels, ascending. */
export function silencesOf(labels: AlertLabels, silences: readonly Silence[], at: Date): number[] {
  return silences
    .filter((s) => silenceState(s, at) === 'active' && silenceMatches(s, labels))
    .map((s) => s.id)
    .sort((a, b) => a - b);
}

/** A silence to create, as a request gives it; `startsAt` defaults to now. */
export interface SilenceInput extends Partial<SilenceMatchers> {
  readonly startsAt?: Date | undefined;
  readonly endsAt: Date;
  readonly createdBy: string;
  readonly reason: string;
}

/** One problem with a silence to create, by the request field it concerns. */
export interface SilenceProblem {
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

/** Silences end within a year: a mute nobody remembers is worse than a reminder to renew it. */
export const MAX_SILENCE_MS = 366 * 86_400_000;

/**
 * Checks a silence to create and completes it, as Alertmanager does: a start in the past (or none) is
 * now, the end must come after the start and not lie in the past, at least one matcher is given, and
 * author and reason are not blank. Every problem is reported at once.
 */
export function validateSilence(
  input: SilenceInput,
  now: Date,
):
  | { ok: true; value: Omit<Silence, 'id' | 'createdAt' | 'expiredAt' | 'expiredBy'> }
  | { ok: false; problems: SilenceProblem[] } {
  const problems: SilenceProblem[] = [];
  const matchers: SilenceMatchers = {
    ruleId: blankToNull(input.ruleId),
    institution: blankToNull(input.institution),
    institutionType: blankToNull(input.institutionType),
    county: blankToNull(input.county),
    severity: blankToNull(input.severity),
  };
  if (Object.values(matchers).every((m) => m === null)) {
    problems.push({
      code: 'silence_matches_everything',
      field: 'matchers',
      message: 'give at least one of rule, institution, institution_type, county, severity',
    });
  }
  if (matchers.severity !== null && !(SEVERITIES as readonly string[]).includes(matchers.severity)) {
    problems.push({
      code: 'unknown_severity',
      field: 'severity',
      message: `must be one of ${SEVERITIES.join(', ')}`,
    });
  }
  const startsAt = input.startsAt && input.startsAt > now ? input.startsAt : now;
  if (input.endsAt <= now) {
    problems.push({ code: 'silence_ends_in_past', field: 'ends_at', message: 'must lie in the future' });
  } else if (input.endsAt <= startsAt) {
    problems.push({
      code: 'silence_ends_before_start',
      field: 'ends_at',
      message: 'must come after starts_at',
    });
  } else if (input.endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_MS) {
    problems.push({
      code: 'silence_too_long',
      field: 'ends_at',
      message: 'a silence lasts at most 366 days',
    });
  }
  if (!input.reason.trim())
    problems.push({ code: 'reason_required', field: 'reason', message: 'must not be blank' });
  if (!input.createdBy.trim())
    problems.push({ code: 'author_required', field: 'created_by', message: 'must not be blank' });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      ...matchers,
      startsAt,
      endsAt: input.endsAt,
      createdBy: input.createdBy.trim(),
      reason: input.reason.trim(),
    },
  };
}

function blankToNull(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}
