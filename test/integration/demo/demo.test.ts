import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestEndedMonth as lastClosedMonth } from '../../../src/catalog/calendar.js';
import { loadDemo } from '../../../src/cli/demo.command.js';
import { DEMO_BREACHES } from '../../../src/demo/demo.data.js';
import { countRows } from '../../support/database.js';
import { createTestService, type TestService } from '../../support/service.js';

describe(lastClosedMonth.name, () => {
  it('is the month before the current one in the regulator’s zone', () => {
    expect(lastClosedMonth(new Date('2026-01-05T01:00:00Z'), 'Asia/Shanghai')).toBe('2025-12');
    // 17:00 UTC on March 31st is already 01:00 on April 1st in Shanghai: March is closed.
    expect(lastClosedMonth(new Date('2026-03-31T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-03');
    expect(lastClosedMonth(new Date('2026-03-31T15:59:59Z'), 'Asia/Shanghai')).toBe('2026-02');
    expect(lastClosedMonth(new Date('2026-03-31T17:00:00Z'), 'UTC')).toBe('2026-02');
  });
});

describe(loadDemo.name, () => {
  let t: TestService;
  const count = (table: 'institutions' | 'submissions' | 'alerts' | 'notification_outbox') =>
    countRows(t.db.db, table);

  beforeAll(async () => {
    t = await createTestService();
  });
  afterAll(async () => t.close());

  it('loads the sample, raises a firing critical alert for every designed breach, mails and exports them', async () => {
    const loaded = await loadDemo(t.services);
    expect(loaded.institutions).toBeGreaterThan(0);
    expect(await count('institutions')).toBe(loaded.institutions);
    expect(loaded.submissions).toBeGreaterThan(loaded.institutions);
    expect(loaded.alerts).toBeGreaterThan(0);

    const firing = await t.db.db
      .selectFrom('alerts')
      .select(['institution_code', 'metric', 'severity', 'period'])
      .where('state', '=', 'firing')
      .where('severity', '=', 'critical')
      .execute();
    for (const breach of DEMO_BREACHES) {
      expect(
        firing.filter((a) => a.institution_code === breach.institution && a.metric === breach.metric),
        `${breach.institution} ${breach.metric}`,
      ).not.toHaveLength(0);
    }
    // Only the designed breaches are critical.
    const breached = new Set(DEMO_BREACHES.map((b) => b.institution));
    expect(firing.filter((a) => !breached.has(a.institution_code ?? ''))).toEqual([]);

    // Past every route's group_wait, so that the digests are made and sent.
    await t.services.dispatcher.kick(new Date(Date.now() + 3_600_000));
    expect(t.outboxFiles().length).toBeGreaterThan(0);
    const pending = await t.db.db
      .selectFrom('notification_outbox')
      .select('id')
      .where('status', '!=', 'sent')
      .execute();
    expect(pending).toEqual([]);

    const metrics = await request(t.app).get('/metrics').expect(200);
    for (const breach of DEMO_BREACHES) {
      expect(metrics.text).toMatch(
        new RegExp(
          `riskwatch_institution_metric_value\\{[^}]*institution="${breach.institution}"[^}]*metric="${breach.metric}"`,
        ),
      );
    }
    const firingCritical = metrics.text
      .split('\n')
      .filter((l) => l.startsWith('riskwatch_alerts_firing{severity="critical"'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(firingCritical).toBe(firing.length);
  });

  it('loads again as a replay of the same files: no new version, alert or e-mail', async () => {
    const before = {
      submissions: await count('submissions'),
      alerts: await count('alerts'),
      outbox: await count('notification_outbox'),
      files: t.outboxFiles().length,
    };
    const again = await loadDemo(t.services);
    expect([again.submissions, again.alerts]).toEqual([0, 0]);
    expect(await count('submissions')).toBe(before.submissions);
    const versions = await t.db.db
      .selectFrom('submissions')
      .select('version')
      .where('is_current', '=', true)
      .execute();
    expect(new Set(versions.map((v) => v.version))).toEqual(new Set([1]));
    expect(await count('alerts')).toBe(before.alerts);
    expect(await count('notification_outbox')).toBe(before.outbox);
    // Past every route's group_wait, so that the digests are made and sent.
    await t.services.dispatcher.kick(new Date(Date.now() + 3_600_000));
    expect(t.outboxFiles()).toHaveLength(before.files);
  });
});
