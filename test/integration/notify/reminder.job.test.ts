import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/catalog/catalog.js';
import type { BusinessCalendar } from '../../../src/notify/business-days.js';
import type { DigestPayload } from '../../../src/notify/notification.payload.js';
import { queueReminders, reminderKey } from '../../../src/notify/reminder.job.js';
import {
  firingAlertsSelector,
  type ReminderCriteria,
  type ReminderSelector,
} from '../../../src/notify/reminder.repository.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { makeRoute } from '../../unit/notify/notify.fixtures.js';
import { seedAlertEvents } from './notify.seed.js';

const catalog = Catalog.load('rules');
if (!catalog.ok) throw new Error('the shipped catalog must load');
const CALENDAR: BusinessCalendar = {
  holidays: new Set(['2026-10-01', '2026-10-02']),
  workdays: new Set(['2026-10-10']),
};
const OTHER = { code: 'QZ002', name: '晋江测试村镇银行', type: 'village_bank', county: '晋江市' };
const local = (text: string) => new Date(`${text}:00+08:00`);
const ROUTE = makeRoute({ name: 'supervisors', reminders: { at: '09:30', severities: ['critical'] } });

describe(queueReminders.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.truncate());
  afterAll(async () => t.close());

  /** The real selector, once the given alerts are acknowledged (as the lifecycle's action records it). */
  const acknowledging = (acknowledged: Set<number>, calls: ReminderCriteria[] = []): ReminderSelector => {
    const real = firingAlertsSelector(t.db);
    return async (criteria) => {
      calls.push(criteria);
      if (acknowledged.size > 0)
        await t.db
          .updateTable('alerts')
          .set({ acknowledged_at: new Date(0), acknowledged_by: 'tester' })
          .where('id', 'in', [...acknowledged])
          .execute();
      return real(criteria);
    };
  };
  const run = (now: Date, select: ReminderSelector, routes = [ROUTE]) =>
    queueReminders(
      { db: t.db, routes, calendar: CALENDAR, catalog: catalog.value, timeZone: 'Asia/Shanghai', select },
      now,
    );
  const reminders = async () =>
    (await t.db.selectFrom('notification_outbox').selectAll().orderBy('id').execute()).map((r) => ({
      key: r.idempotency_key,
      payload: r.payload as DigestPayload,
    }));

  it('reminds once per working-day slot of the critical alerts firing for a day and not acknowledged', async () => {
    const [old] = await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-27 15:00') });
    const [acked] = await seedAlertEvents(t.db, ['firing'], {
      institution: OTHER,
      at: local('2026-09-28 16:00'),
    });
    await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-30 09:00') }); // too fresh for the 30th
    await seedAlertEvents(t.db, ['firing'], { severity: 'warning', at: local('2026-09-01 09:00') });
    const calls: ReminderCriteria[] = [];
    const select = acknowledging(new Set([acked?.alertId ?? 0]), calls);

    expect(await run(local('2026-09-30 09:29'), select)).toBe(1); // the 29th's slot, caught up
    expect(await run(local('2026-09-30 09:30'), select)).toBe(1);
    expect(await run(local('2026-09-30 17:00'), select)).toBe(0); // same slot: already queued
    const rows = await reminders();
    expect(rows.map((r) => r.key)).toEqual([
      reminderKey('supervisors', local('2026-09-29 09:30')),
      reminderKey('supervisors', local('2026-09-30 09:30')),
    ]);
    const latest = rows[1]?.payload;
    expect(latest).toMatchObject({ kind: 'digest', mode: 'reminder', route: 'supervisors', group: '*' });
    expect(latest?.alerts.map((a) => [a.alertId, a.severity, a.firedAt])).toEqual([
      [old?.alertId, 'critical', local('2026-09-27 15:00').toISOString()],
    ]);
    expect(latest?.thread).toBe('<thread.supervisors.QZ001@riskwatch>');
    expect(calls.at(-1)).toEqual({
      severities: ['critical'],
      firedBefore: local('2026-09-29 09:30'),
      at: local('2026-09-30 09:30'),
    });
  });

  it('leaves out the alerts silenced at the slot, and reminds of them once the silence has ended', async () => {
    await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-20 09:00') });
    await t.db
      .insertInto('silences')
      .values({
        institution_code: 'QZ001',
        starts_at: local('2026-09-29 00:00'),
        ends_at: local('2026-10-05 00:00'),
        created_by: 'tester',
        reason: 'on-site inspection under way',
      })
      .execute();
    const select = acknowledging(new Set());
    expect(await run(local('2026-09-30 10:00'), select)).toBe(0);
    expect(await run(local('2026-10-05 09:30'), select)).toBe(1);
  });

  it('skips holidays and weekends, and reminds on a weekend day worked', async () => {
    await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-20 09:00') });
    const select = acknowledging(new Set());
    await run(local('2026-09-30 10:00'), select);
    // 1–2 October are holidays, 3–4 a weekend: the slot in force stays the 30th's until Monday.
    expect(await run(local('2026-10-01 10:00'), select)).toBe(0);
    expect(await run(local('2026-10-04 10:00'), select)).toBe(0);
    expect(await run(local('2026-10-05 09:30'), select)).toBe(1);
    expect(await run(local('2026-10-10 09:30'), select)).toBe(1); // a Saturday worked (调休)
    expect((await reminders()).map((r) => r.key)).toEqual(
      ['2026-09-30', '2026-10-05', '2026-10-10'].map((d) => reminderKey('supervisors', local(`${d} 09:30`))),
    );
  });

  it('sends nothing when every alert is acknowledged, and only what the route matches', async () => {
    const [a] = await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-20 09:00') });
    expect(await run(local('2026-09-30 10:00'), acknowledging(new Set([a?.alertId ?? 0])))).toBe(0);
    const pawns = makeRoute({
      name: 'pawns',
      match: { types: ['pawn'] },
      reminders: { at: '09:30', severities: ['critical'] },
    });
    expect(await run(local('2026-09-30 10:00'), acknowledging(new Set()), [pawns])).toBe(0);
    expect(
      await run(local('2026-09-30 10:00'), acknowledging(new Set()), [makeRoute({ name: 'no-reminders' })]),
    ).toBe(0);
    expect(await reminders()).toEqual([]);
  });

  it('writes one reminder per slot when several replicas run the job at once', async () => {
    await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-20 09:00') });
    const select = acknowledging(new Set());
    const queued = await Promise.all([1, 2, 3].map(() => run(local('2026-09-30 09:30'), select)));
    expect(queued.reduce((x, y) => x + y, 0)).toBe(1);
    expect(await reminders()).toHaveLength(1);
  });
});
