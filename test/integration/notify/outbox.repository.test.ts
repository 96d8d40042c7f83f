import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  claimDue,
  enqueueNotifications,
  markFailed,
  markRetry,
  markSent,
} from '../../../src/notify/outbox.repository.js';
import { outboxStats } from '../../../src/notify/outbox.stats.js';
import type { Route } from '../../../src/notify/routes.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { AT, makeRoute } from '../../unit/notify/notify.fixtures.js';
import { queueLegacyRows, seedAlertEvents } from './notify.seed.js';

const ROUTES: Route[] = [
  makeRoute({ name: 'supervisors', match: {}, to: ['supervision@example.gov.cn'], lang: 'zh' }),
  makeRoute({
    name: 'leadership',
    match: { severities: ['critical'] },
    to: ['director@example.gov.cn'],
    lang: 'en',
  }),
  makeRoute({ name: 'pawn', match: { types: ['pawn'] }, to: ['pawn@example.gov.cn'], lang: 'zh' }),
];
const LEASE = { limit: 10, leaseMs: 60_000, worker: 'test' };
const later = (ms: number) => new Date(AT.getTime() + ms);

describe('notification outbox', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.truncate());
  afterAll(async () => t.close());

  describe(enqueueNotifications.name, () => {
    const items = () => t.db.selectFrom('notification_items').selectAll().orderBy('route').execute();

    it('records one item per notified event and matching route, grouped and due after group_wait', async () => {
      const events = await seedAlertEvents(t.db, ['pending', 'firing', 'updated']);
      const routes = [
        makeRoute({ ...(ROUTES[0] as Route), group_wait: 600_000 }),
        makeRoute({ ...(ROUTES[1] as Route), group_by: ['county', 'rule'] }),
        ROUTES[2] as Route,
      ];
      expect(await enqueueNotifications(t.db, events, routes)).toBe(2);
      const firing = events[1];
      expect(
        (await items()).map((r) => [
          r.route,
          r.group_key,
          r.event_id,
          r.recipients,
          r.lang,
          r.due_at.toISOString(),
        ]),
      ).toEqual([
        [
          'leadership',
          'county=鲤城区,rule=npl_ratio_high',
          firing?.eventId,
          ['director@example.gov.cn'],
          'en',
          AT.toISOString(),
        ],
        [
          'supervisors',
          'institution=QZ001',
          firing?.eventId,
          ['supervision@example.gov.cn'],
          'zh',
          later(600_000).toISOString(),
        ],
      ]);
      expect((await items())[0]?.payload).toMatchObject({ v: 1, lang: 'en', kind: 'firing', value: 5.42 });
      // Nothing is in the outbox until the group's digest is made.
      expect(await t.db.selectFrom('notification_outbox').selectAll().execute()).toEqual([]);
    });

    it('records no resolution for a route with send_resolved: false', async () => {
      const events = await seedAlertEvents(t.db, ['firing', 'resolved']);
      const quiet = makeRoute({ name: 'quiet', send_resolved: false });
      expect(await enqueueNotifications(t.db, events, [quiet, makeRoute({ name: 'all' })])).toBe(3);
      expect((await items()).map((r) => [r.route, r.kind])).toEqual([
        ['all', 'firing'],
        ['all', 'resolved'],
        ['quiet', 'firing'],
      ]);
    });

    it('snapshots only the institution fields an e-mail shows, even when given a whole row', async () => {
      const [item] = await seedAlertEvents(t.db, ['firing']);
      if (!item?.institution) throw new Error('expected an item');
      const row = { ...item.institution, credit_code: null, attributes: {}, created_at: AT };
      await enqueueNotifications(t.db, [{ ...item, institution: row }], ROUTES.slice(0, 1));
      const { payload } = await t.db
        .selectFrom('notification_items')
        .select('payload')
        .executeTakeFirstOrThrow();
      expect(Object.keys(payload.institution as object).sort()).toEqual(['code', 'county', 'name', 'type']);
    });

    it('is idempotent: the same event recorded twice gives one item per route', async () => {
      const events = await seedAlertEvents(t.db, ['firing']);
      expect(await enqueueNotifications(t.db, events, ROUTES)).toBe(2);
      expect(await enqueueNotifications(t.db, events, ROUTES)).toBe(0);
      expect(await items()).toHaveLength(2);
    });

    it('rolls back with the transaction that recorded the events', async () => {
      const events = await seedAlertEvents(t.db, ['resolved']);
      await expect(
        t.db.transaction().execute(async (trx) => {
          await enqueueNotifications(trx, events, ROUTES);
          throw new Error('evaluation failed');
        }),
      ).rejects.toThrow('evaluation failed');
      expect(await items()).toEqual([]);
    });
  });

  describe(claimDue.name, () => {
    const seedRows = async (events: number) => {
      const items = await seedAlertEvents(
        t.db,
        Array.from({ length: events }, () => 'firing' as const),
      );
      await queueLegacyRows(t.db, items, ROUTES.slice(0, 1));
    };

    it('claims due rows, sets the lease and counts the attempt', async () => {
      await seedRows(3);
      expect(await claimDue(t.db, later(-1), LEASE)).toEqual([]); // not due yet
      const rows = await claimDue(t.db, AT, LEASE);
      expect(rows.map((r) => [r.status, r.attempts, r.locked_until?.toISOString()])).toEqual(
        Array.from({ length: 3 }, () => ['sending', 1, later(60_000).toISOString()]),
      );
      expect(rows.every((r) => r.claimed_by === 'test')).toBe(true);
      expect(await claimDue(t.db, later(1000), LEASE)).toEqual([]); // leased
    });

    it('gives two concurrent claimers disjoint rows', async () => {
      await seedRows(10);
      const [a, b] = await Promise.all([
        claimDue(t.db, AT, { ...LEASE, limit: 5, worker: 'a' }),
        claimDue(t.db, AT, { ...LEASE, limit: 5, worker: 'b' }),
      ]);
      const ids = [...(a ?? []), ...(b ?? [])].map((r) => r.id);
      expect(new Set(ids).size).toBe(10);
    });

    it.skipIf(!process.env.TEST_DATABASE_URL)('skips rows locked by a claim still in progress', async () => {
      await seedRows(4);
      let inner: number[] = [];
      await t.db.transaction().execute(async (trx) => {
        const first = await claimDue(trx, AT, { ...LEASE, limit: 2 });
        // Uncommitted: the other connection still sees these rows as pending, but locked.
        inner = (await claimDue(t.db, AT, LEASE)).map((r) => r.id);
        expect(inner).toHaveLength(2);
        expect(inner.some((id) => first.some((r) => r.id === id))).toBe(false);
      });
    });

    it('re-claims a row whose lease expired, fencing out the stale claimer', async () => {
      await seedRows(1);
      const [first] = await claimDue(t.db, AT, LEASE);
      expect(await claimDue(t.db, later(59_999), LEASE)).toEqual([]);
      const [second] = await claimDue(t.db, later(60_000), LEASE);
      expect(second?.id).toBe(first?.id);
      expect(second?.attempts).toBe(2);
      if (!first || !second) return;
      expect(await markRetry(t.db, first.id, 'stale', later(90_000), first.attempts)).toBe(false);
      expect(await markFailed(t.db, first.id, 'stale', first.attempts)).toBe(false);
      expect(await markRetry(t.db, second.id, '451 later', later(90_000), second.attempts)).toBe(true);
    });
  });

  describe('marking', () => {
    it('sends a retried row again only when it is due', async () => {
      const items = await seedAlertEvents(t.db, ['firing']);
      await queueLegacyRows(t.db, items, ROUTES.slice(0, 1));
      const [row] = await claimDue(t.db, AT, LEASE);
      if (!row) throw new Error('expected a row');
      await markRetry(t.db, row.id, '451 try later', later(30_000), row.attempts);
      expect(await claimDue(t.db, later(29_999), LEASE)).toEqual([]);
      const [again] = await claimDue(t.db, later(30_000), LEASE);
      expect(again).toMatchObject({ id: row.id, attempts: 2, last_error: '451 try later' });
      expect(await markSent(t.db, row.id, '<1.supervisors@riskwatch>', later(31_000))).toBe(true);
      expect(await markSent(t.db, row.id, '<1.supervisors@riskwatch>', later(32_000))).toBe(false);
      const sent = await t.db.selectFrom('notification_outbox').selectAll().executeTakeFirstOrThrow();
      expect(sent).toMatchObject({
        status: 'sent',
        message_id: '<1.supervisors@riskwatch>',
        last_error: null,
        locked_until: null,
      });
      expect(sent.sent_at?.toISOString()).toBe(later(31_000).toISOString());
    });
  });

  describe(outboxStats.name, () => {
    it('counts undelivered and failed rows and the age of the oldest undelivered one', async () => {
      expect(await outboxStats(t.db, AT)).toEqual({ pending: 0, failed: 0, oldestPendingAgeSeconds: 0 });
      const items = await seedAlertEvents(t.db, ['firing', 'resolved']);
      await queueLegacyRows(t.db, items, ROUTES.slice(0, 1));
      await t.db
        .updateTable('notification_outbox')
        .set({ created_at: AT } as never)
        .execute();
      const [row] = await claimDue(t.db, AT, { ...LEASE, limit: 1 });
      if (!row) throw new Error('expected a row');
      await markFailed(t.db, row.id, '550 no such user', row.attempts);
      expect(await outboxStats(t.db, later(90_000))).toEqual({
        pending: 1,
        failed: 1,
        oldestPendingAgeSeconds: 90,
      });
    });
  });
});
