import type { AlertState, TransitionKind } from './alert.types.js';

/**
 * Event kinds people add to an alert's history, beside the rule engine's transitions (whose kinds
 * stay as they are). `closed` ends the alert (`resolved`); the others leave its state alone.
 */
export const LIFECYCLE_EVENT_KINDS = [
  'acknowledged',
  'unacknowledged',
  'assigned',
  'closed',
  'commented',
] as const;
export type LifecycleEventKind = (typeof LIFECYCLE_EVENT_KINDS)[number];

/** What a person may do to an alert. */
export type AlertAction =
  | { readonly kind: 'acknowledge'; readonly comment?: string | undefined }
  | { readonly kind: 'unacknowledge'; readonly comment?: string | undefined }
  /** `assignee: null` unassigns. */
  | { readonly kind: 'assign'; readonly assignee: string | null; readonly comment?: string | undefined }
  | { readonly kind: 'close'; readonly reason: string }
  | { readonly kind: 'comment'; readonly comment: string };

/** The part of an alert people change, besides its state. */
export interface AlertLifecycle {
  readonly state: AlertState;
  readonly acknowledgement: {
    readonly by: string;
    readonly at: Date;
    readonly comment: string | null;
  } | null;
  readonly assignee: string | null;
  readonly closed: { readonly by: string; readonly at: Date; readonly reason: string } | null;
}

/** Why an action is refused: a stable code (answered as 409) and a message. */
export const REFUSALS = {
  alert_resolved: 'The alert is resolved: only comments may be added',
  alert_already_acknowledged: 'The alert is already acknowledged',
  alert_not_acknowledged: 'The alert is not acknowledged',
} as const;
export type RefusalCode = keyof typeof REFUSALS;

/** The event an accepted action records. */
export interface LifecycleEvent {
  readonly kind: LifecycleEventKind;
  readonly from: AlertState;
  readonly to: AlertState;
  readonly comment: string | null;
  readonly assignee: string | null;
}

export type ActionOutcome =
  | { readonly ok: true; readonly next: AlertLifecycle; readonly event: LifecycleEvent | null }
  | { readonly ok: false; readonly code: RefusalCode; readonly message: string };

/**
 * Decides an action on an alert in its current lifecycle. Acknowledging, unacknowledging, assigning
 * and closing need an active (pending or firing) alert; a comment may be added in any state. A second
 * acknowledgement is refused rather than overwriting who acknowledged. Assigning the assignee the
 * alert already has changes nothing and records nothing (`event: null`). Closing resolves the alert
 * with the supervisor's reason; the acknowledgement and assignee stay on it as history.
 */
export function decideAction(
  current: AlertLifecycle,
  action: AlertAction,
  actor: string,
  at: Date,
): ActionOutcome {
  const refuse = (code: RefusalCode): ActionOutcome => ({ ok: false, code, message: REFUSALS[code] });
  const event = (kind: LifecycleEventKind, rest: Partial<LifecycleEvent> = {}): LifecycleEvent => ({
    kind,
    from: current.state,
    to: current.state,
    comment: null,
    assignee: null,
    ...rest,
  });
  if (action.kind === 'comment')
    return { ok: true, next: current, event: event('commented', { comment: action.comment }) };
  if (current.state === 'resolved') return refuse('alert_resolved');
  const comment = 'comment' in action ? (action.comment ?? null) : null;
  switch (action.kind) {
    case 'acknowledge':
      if (current.acknowledgement) return refuse('alert_already_acknowledged');
      return {
        ok: true,
        next: { ...current, acknowledgement: { by: actor, at, comment } },
        event: event('acknowledged', { comment }),
      };
    case 'unacknowledge':
      if (!current.acknowledgement) return refuse('alert_not_acknowledged');
      return {
        ok: true,
        next: { ...current, acknowledgement: null },
        event: event('unacknowledged', { comment }),
      };
    case 'assign':
      if (current.assignee === action.assignee) return { ok: true, next: current, event: null };
      return {
        ok: true,
        next: { ...current, assignee: action.assignee },
        event: event('assigned', { comment, assignee: action.assignee }),
      };
    case 'close':
      return {
        ok: true,
        next: { ...current, state: 'resolved', closed: { by: actor, at, reason: action.reason } },
        event: event('closed', { to: 'resolved', comment: action.reason }),
      };
  }
}

/**
 * Whether a rule-engine transition takes the acknowledgement away. An escalation does: the
 * acknowledgement was given for a lesser severity, and the alert must be looked at again (reminders
 * of unacknowledged critical alerts then apply). Every other transition keeps it — a pending alert
 * acknowledged stays acknowledged when it fires, and a resolution keeps it as history. A resolved alert
 * never fires again: the next breach is a new alert, unacknowledged.
 */
export function clearsAcknowledgement(kind: TransitionKind): boolean {
  return kind === 'escalated';
}

/** The lifecycle after a rule-engine transition to `to`. */
export function afterTransition(
  current: AlertLifecycle,
  kind: TransitionKind,
  to: AlertState,
): AlertLifecycle {
  return {
    ...current,
    state: to,
    acknowledgement: clearsAcknowledgement(kind) ? null : current.acknowledgement,
  };
}

/**
 * Whether an alert the rule engine would open for a fingerprint a supervisor closed is a later breach
 * (it opens) or the breach that was closed (it does not). Closing says "seen and dealt with": the
 * same period judged again must not raise it anew, a later period breaching does.
 */
export function reopensAfterClose(
  closedPeriod: string,
  newPeriod: string,
  comparePeriods: (a: string, b: string) => number,
): boolean {
  return comparePeriods(newPeriod, closedPeriod) > 0;
}
