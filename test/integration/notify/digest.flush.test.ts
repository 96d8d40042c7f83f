import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { flushDueGroups } from '../../../src/notify/digest.flush.js';
import type { DigestPayload } from '../../../src/notify/notification.payload.js';
import { enqueueNotifications } from '../../../src/notify/outbox.repository.js';
import { countRows, createTestDatabase, type TestDatabase } from '../../support/database.js';
import { AT, makeRoute } from '../../unit/notify/notify.fixtures.js';
import { seedAlertEvents } from './notify.seed.js';

const OTHER = { code: 'QZ002', name: '晋江测试村镇银行', type: 'village_bank', county: '晋江市' };
const later = (ms: number) => new Date(AT.getTime() + ms);
const TEN_MINUTES = 600_000;

describe(flushDueGroups.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => t.truncate());
  afterAll(async () => t.close());

  const digests = async () =>
    (await t.db.selectFrom('notification_outbox').selectAll().orderBy('id').execute()).map((r) => ({
      key: r.idempotency_key,
      route: r.route,
      recipients: r.recipients,
      payload: r.payload as DigestPayload,
    }));

  it('waits group_wait after a group’s first event, then sends everything the group gathered in ONE digest', async () => {
    const route = makeRoute({ name: 'supervisors', group_wait: TEN_MINUTES });
    await enqueueNotifications(t.db, await seedAlertEvents(t.db, ['firing']), [route]);
    await enqueueNotifications(t.db, await seedAlertEvents(t.db, ['firing'], { at: later(5 * 60_000) }), [
      route,
    ]);
    await enqueueNotifications(
      t.db,
      await seedAlertEvents(t.db, ['firing'], { institution: OTHER, at: later(60_000) }),
      [route],
    );
    expect(await flushDueGroups(t.db, later(TEN_MINUTES - 1))).toBe(0);
    expect(await flushDueGroups(t.db, later(TEN_MINUTES))).toBe(1);
    const [first] = await digests();
    expect(first?.payload).toMatchObject({ kind: 'digest', mode: 'changes', group: 'institution=QZ001' });
    expect(first?.payload.alerts).toHaveLength(2);
    expect(first?.payload.thread).toBe('<thread.supervisors.QZ001@riskwatch>');
    // The other institution's group started a minute later and goes a minute later.
    expect(await flushDueGroups(t.db, later(TEN_MINUTES + 59_999))).toBe(0);
    expect(await flushDueGroups(t.db, later(TEN_MINUTES + 60_000))).toBe(1);
    expect((await digests()).map((d) => d.payload.group)).toEqual(['institution=QZ001', 'institution=QZ002']);
    expect(
      await t.db.selectFrom('notification_items').where('digest_id', 'is', null).selectAll().execute(),
    ).toEqual([]);
  });

  it('groups by the route’s labels, one digest per route group, with the route’s recipients and language', async () => {
    const routes = [
      makeRoute({ name: 'per-institution' }),
      makeRoute({ name: 'per-severity', group_by: ['severity'], lang: 'en', to: ['lead@example.gov.cn'] }),
    ];
    await enqueueNotifications(t.db, await seedAlertEvents(t.db, ['firing']), routes);
    await enqueueNotifications(t.db, await seedAlertEvents(t.db, ['firing'], { institution: OTHER }), routes);
    await enqueueNotifications(
      t.db,
      await seedAlertEvents(t.db, ['firing'], { institution: OTHER, severity: 'warning' }),
      routes,
    );
    expect(await flushDueGroups(t.db, AT)).toBe(4);
    const rows = await digests();
    expect(rows.map((d) => [d.route, d.payload.group, d.payload.lang, d.payload.alerts.length])).toEqual([
      ['per-institution', 'institution=QZ001', 'zh', 1],
      ['per-institution', 'institution=QZ002', 'zh', 2],
      ['per-severity', 'severity=critical', 'en', 2],
      ['per-severity', 'severity=warning', 'en', 1],
    ]);
    expect(rows[2]?.recipients).toEqual(['lead@example.gov.cn']);
    expect(rows[2]?.payload.thread).toBeNull();
  });

  it('shows an alert that fired and resolved within the wait once, as resolved', async () => {
    const route = makeRoute({ name: 'supervisors', group_wait: TEN_MINUTES });
    await enqueueNotifications(t.db, await seedAlertEvents(t.db, ['firing', 'resolved']), [route]);
    expect(await flushDueGroups(t.db, later(TEN_MINUTES))).toBe(1);
    const [digest] = await digests();
    expect(digest?.payload.alerts.map((a) => a.kind)).toEqual(['resolved']);
    expect(await countRows(t.db, 'notification_items')).toBe(2);
  });

  it('puts each item in exactly one digest when several replicas flush at once', async () => {
    const route = makeRoute({ name: 'supervisors' });
    for (let i = 0; i < 6; i++) {
      const institution = { ...OTHER, code: `QZ10${i}`, name: `测试银行${i}` };
      await enqueueNotifications(
        t.db,
        await seedAlertEvents(t.db, ['firing', 'escalated'], { institution }),
        [route],
      );
    }
    const written = await Promise.all([1, 2, 3].map(() => flushDueGroups(t.db, AT)));
    expect(written.reduce((a, b) => a + b, 0)).toBe(6);
    const rows = await digests();
    expect(rows).toHaveLength(6);
    const eventIds = rows.flatMap((d) => d.payload.alerts.map((a) => a.eventId));
    expect(new Set(eventIds).size).toBe(6);
    const linked = await t.db.selectFrom('notification_items').select(['digest_id']).execute();
    expect(linked.every((i) => i.digest_id !== null)).toBe(true);
    // Flushing again finds nothing: the items are taken.
    expect(await flushDueGroups(t.db, later(TEN_MINUTES))).toBe(0);
  });

  it('writes the same key for the same events, so a digest made twice is one row', async () => {
    const route = makeRoute({ name: 'supervisors' });
    await enqueueNotifications(t.db, await seedAlertEvents(t.db, ['firing']), [route]);
    expect(await flushDueGroups(t.db, AT)).toBe(1);
    const [{ key } = { key: '' }] = await digests();
    // As if a second replica had read the same items before the first committed: unlink them and flush.
    await t.db.updateTable('notification_items').set({ digest_id: null }).execute();
    expect(await flushDueGroups(t.db, AT)).toBe(0);
    expect((await digests()).map((d) => d.key)).toEqual([key]);
    const [item] = await t.db.selectFrom('notification_items').select('digest_id').execute();
    expect(item?.digest_id).not.toBeNull();
  });
});
