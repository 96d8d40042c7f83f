import { describe, expect, it } from 'vitest';
import type { AlertState, TransitionKind } from '../../../src/alerts/alert.types.js';
import {
  type AlertAction,
  type AlertLifecycle,
  afterTransition,
  decideAction,
  reopensAfterClose,
} from '../../../src/alerts/lifecycle.js';
import { comparePeriods } from '../../../src/catalog/period.js';

const at = (minute: number) => new Date(Date.UTC(2024, 6, 1, 2, minute));

/** One step of a timeline: the rule engine moves the alert, or a person acts on it. */
type Step =
  | { readonly engine: TransitionKind; readonly to: AlertState }
  | { readonly by: string; readonly action: AlertAction };

/** What a timeline row expects after its step: the lifecycle's shape, or the refusal's code. */
type Expected =
  | {
      readonly state: AlertState;
      readonly acked: string | null;
      readonly assignee?: string | null;
      readonly event?: string | null;
    }
  | { readonly refused: string };

function play(steps: readonly (readonly [Step, Expected])[]) {
  let current: AlertLifecycle = { state: 'pending', acknowledgement: null, assignee: null, closed: null };
  steps.forEach(([step, expected], i) => {
    const where = `step ${i + 1}`;
    if ('engine' in step) {
      current = afterTransition(current, step.engine, step.to);
      expect({ state: current.state, acked: current.acknowledgement?.by ?? null }, where).toEqual({
        state: (expected as { state: AlertState }).state,
        acked: (expected as { acked: string | null }).acked,
      });
      return;
    }
    const outcome = decideAction(current, step.action, step.by, at(i));
    if ('refused' in expected) {
      expect(outcome, where).toMatchObject({ ok: false, code: expected.refused });
      return;
    }
    if (!outcome.ok) throw new Error(`${where}: refused with ${outcome.code}`);
    current = outcome.next;
    expect(
      {
        state: current.state,
        acked: current.acknowledgement?.by ?? null,
        ...('assignee' in expected ? { assignee: current.assignee } : {}),
        ...('event' in expected ? { event: outcome.event?.kind ?? null } : {}),
      },
      where,
    ).toEqual(expected);
  });
}

describe('the alert lifecycle as a timeline', () => {
  it('acknowledges a pending alert, keeps the acknowledgement when it fires, and refuses a second one', () => {
    play([
      [
        { by: 'li', action: { kind: 'acknowledge', comment: 'watching' } },
        { state: 'pending', acked: 'li', event: 'acknowledged' },
      ],
      [
        { engine: 'firing', to: 'firing' },
        { state: 'firing', acked: 'li' },
      ],
      [{ by: 'wang', action: { kind: 'acknowledge' } }, { refused: 'alert_already_acknowledged' }],
      [
        { engine: 'updated', to: 'firing' },
        { state: 'firing', acked: 'li' },
      ],
      [
        { engine: 'deescalated', to: 'firing' },
        { state: 'firing', acked: 'li' },
      ],
    ]);
  });

  it('takes the acknowledgement away on escalation, so the critical alert is looked at again', () => {
    play([
      [
        { engine: 'firing', to: 'firing' },
        { state: 'firing', acked: null },
      ],
      [
        { by: 'li', action: { kind: 'acknowledge' } },
        { state: 'firing', acked: 'li' },
      ],
      [
        { engine: 'escalated', to: 'firing' },
        { state: 'firing', acked: null },
      ],
      [
        { by: 'wang', action: { kind: 'acknowledge' } },
        { state: 'firing', acked: 'wang' },
      ],
    ]);
  });

  it('un-acknowledges only what is acknowledged', () => {
    play([
      [{ by: 'li', action: { kind: 'unacknowledge' } }, { refused: 'alert_not_acknowledged' }],
      [
        { by: 'li', action: { kind: 'acknowledge' } },
        { state: 'pending', acked: 'li' },
      ],
      [
        { by: 'wang', action: { kind: 'unacknowledge', comment: 'not ours' } },
        { state: 'pending', acked: null, event: 'unacknowledged' },
      ],
    ]);
  });

  it('assigns, re-assigns, records nothing for the same assignee, and unassigns', () => {
    play([
      [
        { engine: 'firing', to: 'firing' },
        { state: 'firing', acked: null },
      ],
      [
        { by: 'li', action: { kind: 'assign', assignee: 'zhang' } },
        { state: 'firing', acked: null, assignee: 'zhang', event: 'assigned' },
      ],
      [
        { by: 'li', action: { kind: 'assign', assignee: 'zhang' } },
        { state: 'firing', acked: null, assignee: 'zhang', event: null },
      ],
      [
        { by: 'li', action: { kind: 'assign', assignee: 'chen' } },
        { state: 'firing', acked: null, assignee: 'chen', event: 'assigned' },
      ],
      [
        { by: 'li', action: { kind: 'assign', assignee: null } },
        { state: 'firing', acked: null, assignee: null, event: 'assigned' },
      ],
    ]);
  });

  it('resolves on recovery keeping the acknowledgement as history, then allows comments only', () => {
    play([
      [
        { engine: 'firing', to: 'firing' },
        { state: 'firing', acked: null },
      ],
      [
        { by: 'li', action: { kind: 'acknowledge' } },
        { state: 'firing', acked: 'li' },
      ],
      [
        { engine: 'resolved', to: 'resolved' },
        { state: 'resolved', acked: 'li' },
      ],
      [{ by: 'li', action: { kind: 'acknowledge' } }, { refused: 'alert_resolved' }],
      [{ by: 'li', action: { kind: 'unacknowledge' } }, { refused: 'alert_resolved' }],
      [{ by: 'li', action: { kind: 'assign', assignee: 'chen' } }, { refused: 'alert_resolved' }],
      [{ by: 'li', action: { kind: 'close', reason: 'late' } }, { refused: 'alert_resolved' }],
      [
        { by: 'li', action: { kind: 'comment', comment: 'recovered after capital injection' } },
        { state: 'resolved', acked: 'li', event: 'commented' },
      ],
    ]);
  });

  it('closes a firing alert as resolved, with the reason as the event comment', () => {
    play([
      [
        { engine: 'firing', to: 'firing' },
        { state: 'firing', acked: null },
      ],
      [
        { by: 'li', action: { kind: 'close', reason: 'data error confirmed with the bank' } },
        { state: 'resolved', acked: null, event: 'closed' },
      ],
      [{ by: 'li', action: { kind: 'close', reason: 'again' } }, { refused: 'alert_resolved' }],
    ]);
    const closed = decideAction(
      { state: 'firing', acknowledgement: null, assignee: null, closed: null },
      { kind: 'close', reason: 'data error' },
      'li',
      at(0),
    );
    expect(closed).toMatchObject({
      ok: true,
      next: { closed: { by: 'li', reason: 'data error' } },
      event: { kind: 'closed', from: 'firing', to: 'resolved', comment: 'data error' },
    });
  });
});

describe(reopensAfterClose.name, () => {
  it.each([
    ['2024-06', '2024-06', false],
    ['2024-06', '2024-05', false],
    ['2024-06', '2024-07', true],
    ['2024-Q2', '2024-Q3', true],
  ])('closed at %s, breach in %s: opens a new alert = %s', (closed, breach, opens) => {
    expect(reopensAfterClose(closed, breach, comparePeriods)).toBe(opens);
  });
});
