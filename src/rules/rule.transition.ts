import {
  type ActiveAlert,
  type AlertExplanation,
  severityRank,
  type Transition,
  type TransitionKind,
} from '../alerts/alert.types.js';

/** An alert as computed from the latest data, before the previous alert's timestamps are carried over. */
export type ComputedAlert = Omit<ActiveAlert, 'startedAt' | 'firedAt'>;

/** The alert to keep active and the transition that led to it, if anything changed. */
export interface Step {
  readonly alert: ActiveAlert;
  readonly transition?: Transition;
}

/**
 * Moves an alert from its previous state to the computed one. `startedAt` is kept from the previous
 * alert; `firedAt` is set when the alert starts firing and kept while it fires. No transition when
 * state, severity, period, value, threshold and run are all unchanged, so evaluating the same data
 * twice changes nothing (a new submission id alone is carried over silently, and so is a new
 * explanation: a resubmission of the same values, or a peer group's median moving while the statistic
 * stays put, explains the alert anew without an `updated` transition).
 */
export function stepAlert(prev: ActiveAlert | undefined, next: ComputedAlert, now: Date): Step {
  const firing = next.state === 'firing';
  const alert: ActiveAlert = {
    ...next,
    startedAt: prev?.startedAt ?? now,
    firedAt: firing ? (prev?.state === 'firing' && prev.firedAt ? prev.firedAt : now) : null,
  };
  const kind = transitionKind(prev, next);
  if (!kind) return { alert };
  return { alert, transition: { kind, from: prev?.state ?? null, to: next.state, alert, at: now } };
}

/**
 * Resolves an alert. With the observation that cleared it, the alert carries that period, value and
 * submission, and `explanation` (what cleared it) when given; without one (its rule was removed or no
 * longer applies) it keeps its last values and explanation.
 */
export function resolveAlert(
  prev: ActiveAlert,
  now: Date,
  clearedBy?: { period: string; value: number; submissionId: number | null },
  explanation?: AlertExplanation,
): Transition {
  const alert = clearedBy
    ? {
        ...prev,
        period: clearedBy.period,
        value: clearedBy.value,
        submissionId: clearedBy.submissionId,
        ...(explanation ? { explanation } : {}),
      }
    : prev;
  return { kind: 'resolved', from: prev.state, to: 'resolved', alert, at: now };
}

function transitionKind(prev: ActiveAlert | undefined, next: ComputedAlert): TransitionKind | undefined {
  // New alerts and state changes (pending → firing, or back to pending when a gap cut the run short).
  if (!prev || prev.state !== next.state) return next.state;
  // Only firing alerts escalate: a pending one has not been notified, so its severity change is an update.
  if (next.state === 'firing' && prev.severity !== next.severity) {
    return severityRank(next.severity) > severityRank(prev.severity) ? 'escalated' : 'deescalated';
  }
  const changed =
    prev.severity !== next.severity ||
    prev.period !== next.period ||
    prev.value !== next.value ||
    prev.threshold !== next.threshold ||
    prev.periods !== next.periods ||
    prev.firstPeriod !== next.firstPeriod;
  return changed ? 'updated' : undefined;
}
