import { describe, expect, it } from 'vitest';
import { nplRule, playTimeline, ruralBank, type TimelineRow } from './rules.fixture.js';

// Each table reads top to bottom as the months go by: the value filed for a period (or an event, see
// TimelineEvent), then the alert the evaluator holds afterwards and the transition it reported.
describe('evaluate over a timeline', () => {
  it('goes pending, fires after two breaching periods, escalates, de-escalates and resolves', () => {
    const rows: TimelineRow[] = [
      // period  value  state      severity    run  transition
      ['2024-01', 3.9, '-', '-', '-', '-'],
      ['2024-02', 4.2, 'pending', 'warning', 1, 'pending'],
      ['2024-03', 4.5, 'firing', 'warning', 2, 'firing'],
      ['2024-04', 4.5, 'firing', 'warning', 3, 'updated'],
      ['2024-04', null, 'firing', 'warning', 3, '-'],
      ['2024-05', 5.3, 'firing', 'critical', 4, 'escalated'],
      ['2024-05', null, 'firing', 'critical', 4, '-'],
      ['2024-06', 4.1, 'firing', 'warning', 5, 'deescalated'],
      ['2024-07', 3, '-', '-', '-', 'resolved'],
      ['2024-07', null, '-', '-', '-', '-'],
    ];
    expect(playTimeline(nplRule({ for: 2 }), ruralBank, rows)).toEqual(rows);
  });

  it('fires in the first breaching period when for is 1, straight at the highest level breached', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 6.2, 'firing', 'critical', 1, 'firing'],
      ['2024-02', 5, 'firing', 'warning', 2, 'deescalated'],
      ['2024-03', 4, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(nplRule(), ruralBank, rows)).toEqual(rows);
  });

  it('restarts the run after a gap, and counts again once a late filing closes it', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 4.5, 'pending', 'warning', 2, 'updated'],
      ['2024-04', 4.5, 'pending', 'warning', 1, 'updated'], // March is missing: the run starts again
      ['2024-05', 4.5, 'pending', 'warning', 2, 'updated'],
      ['2024-03', 4.6, 'firing', 'warning', 5, 'firing'], // March arrives late: five in a row up to May
    ];
    expect(playTimeline(nplRule({ for: 3 }), ruralBank, rows)).toEqual(rows);
  });

  it('drops a firing alert back to pending when a gap cuts its run below for', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 4.5, 'firing', 'warning', 2, 'firing'],
      ['2024-04', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-05', 4.5, 'firing', 'warning', 2, 'firing'],
    ];
    expect(playTimeline(nplRule({ for: 2 }), ruralBank, rows)).toEqual(rows);
  });

  it('treats a severity change while pending as an update, since nothing was notified yet', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 5.5, 'pending', 'critical', 2, 'updated'],
      ['2024-03', 5.5, 'firing', 'critical', 3, 'firing'],
    ];
    expect(playTimeline(nplRule({ for: 3 }), ruralBank, rows)).toEqual(rows);
  });

  it('resolves a pending alert that never fired', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'pending', 'warning', 1, 'pending'],
      ['2024-02', 3.5, '-', '-', '-', 'resolved'],
      ['2024-03', 4.1, 'pending', 'warning', 1, 'pending'],
    ];
    expect(playTimeline(nplRule({ for: 2 }), ruralBank, rows)).toEqual(rows);
  });

  it("judges a minimum ('<') on quarterly periods, the limit itself not breaching", () => {
    const car = nplRule({
      metric: 'capital_adequacy_ratio',
      op: '<',
      levels: [
        { severity: 'warning', threshold: 11.5 },
        { severity: 'critical', threshold: 10.5 },
      ],
    });
    const rows: TimelineRow[] = [
      ['2024-Q1', 12, '-', '-', '-', '-'],
      ['2024-Q2', 11, 'firing', 'warning', 1, 'firing'],
      ['2024-Q3', 10.2, 'firing', 'critical', 2, 'escalated'],
      ['2024-Q4', 10.5, 'firing', 'warning', 3, 'deescalated'],
      ['2025-Q1', 11.5, '-', '-', '-', 'resolved'],
    ];
    expect(playTimeline(car, ruralBank, rows)).toEqual(rows);
  });

  it("breaches at the threshold itself with '>='", () => {
    const rows: TimelineRow[] = [
      ['2024-01', 3.99, '-', '-', '-', '-'],
      ['2024-02', 4, 'firing', 'warning', 1, 'firing'],
      ['2024-03', 5, 'firing', 'critical', 2, 'escalated'],
    ];
    expect(playTimeline(nplRule({ op: '>=' }), ruralBank, rows)).toEqual(rows);
  });

  it('keeps the alert through missing data and a failing rule, and resolves it when the rule is removed', () => {
    const rows: TimelineRow[] = [
      ['2024-01', 4.5, 'firing', 'warning', 1, 'firing'],
      ['2024-02', 5.5, 'firing', 'critical', 2, 'escalated'],
      ['2024-02', 'data withdrawn', 'firing', 'critical', 2, '-'],
      ['2024-02', 'rule broken', 'firing', 'critical', 2, 'rule error'],
      ['2024-03', 5.6, 'firing', 'critical', 2, 'rule error'], // a broken rule leaves its alert as it was
      ['2024-03', 'rule fixed', 'firing', 'critical', 1, 'updated'], // only March is left since the withdrawal
      ['2024-03', 'rule removed', '-', '-', '-', 'resolved'],
      ['2024-03', null, '-', '-', '-', '-'],
    ];
    expect(playTimeline(nplRule(), ruralBank, rows)).toEqual(rows);
  });
});
