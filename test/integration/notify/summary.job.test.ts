import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SummaryPayload } from '../../../src/notify/notification.payload.js';
import { queueMonthlySummaries, summaryKey } from '../../../src/notify/summary.job.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { makeRoute } from '../../unit/notify/notify.fixtures.js';
import { seedAlertEvents } from './notify.seed.js';

const local = (text: string) => new Date(`${text}:00+08:00`);
const CALENDAR = {
  holidays: new Set(['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07']),
  workdays: new Set<string>(),
};
const ROUTES = [
  makeRoute({ name: 'supervisors', monthly_summary: { at: '09:00' } }),
  makeRoute({ name: 'quiet' }),
];

describe(queueMonthlySummaries.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.truncate());
  afterAll(async () => t.close());

  const run = (now: Date) =>
    queueMonthlySummaries({ db: t.db, routes: ROUTES, calendar: CALENDAR, timeZone: 'Asia/Shanghai' }, now);

  it('summarises the month before on the first working day of the month, once per route', async () => {
    await seedAlertEvents(t.db, ['firing'], { at: local('2026-09-10 10:00') });
    await seedAlertEvents(t.db, ['firing'], { at: local('2026-10-01 00:30'), severity: 'warning' }); // October's
    expect(await run(local('2026-10-08 08:59'))).toBe(0); // Golden Week, then 08:59 on the first working day
    expect(await run(local('2026-10-08 09:00'))).toBe(1);
    expect(await run(local('2026-10-08 09:01'))).toBe(0);
    expect(await run(local('2026-10-20 12:00'))).toBe(0);
    const rows = await t.db.selectFrom('notification_outbox').selectAll().execute();
    expect(rows.map((r) => [r.idempotency_key, r.route])).toEqual([
      [summaryKey('supervisors', '2026-09'), 'supervisors'],
    ]);
    expect(rows[0]?.payload as SummaryPayload).toMatchObject({
      kind: 'summary',
      month: '2026-09',
      fired: { critical: 1, warning: 0, info: 0 },
      firing: { critical: 1, warning: 0, info: 0 },
      resolved: 0,
      top: [{ code: 'QZ001', alerts: 1 }],
    });
  });
});
