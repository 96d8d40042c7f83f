import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAlerts } from '../../../src/alerts/alert.repository.js';
import { actOnAlert } from '../../../src/alerts/alert-action.service.js';
import { withSuppressionStatus } from '../../../src/alerts/alert-status.service.js';
import { evaluateAll } from '../../../src/alerts/evaluation.full.js';
import { evaluateInstitutions } from '../../../src/alerts/evaluation.service.js';
import { createSilence } from '../../../src/alerts/silence.service.js';
import type { Principal } from '../../../src/auth/api-key.js';
import { submitObservations } from '../../../src/ingest/submission.service.js';
import { saveInstitutions } from '../../../src/institutions/institution.service.js';
import type { LoadedRules } from '../../../src/rules/rules.runtime.js';
import { shippedRules } from '../../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const admin: Principal = { keyId: 'k', name: 'tester', role: 'admin', institution: null, email: null };
const at = (month: number, day: number) => new Date(Date.UTC(2024, month - 1, day, 2));

describe('the alert lifecycle on a real database', () => {
  let t: TestDatabase;
  let rules: LoadedRules;
  beforeAll(async () => {
    t = await createTestDatabase();
    rules = shippedRules();
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.truncate();
    await saveInstitutions(
      t.db,
      rules.catalog,
      [
        { code: 'B1', name: '一号农商行', type: 'rural_commercial_bank', county: '南安市' },
        { code: 'B2', name: '二号农商行', type: 'rural_commercial_bank', county: '晋江市' },
      ],
      'test',
    );
  });

  const upload = (code: string, period: string, values: Record<string, number>, now: Date) =>
    submitObservations(
      { db: t.db, snapshot: () => rules },
      Object.entries(values).map(([metric, value], i) => ({
        institution: { text: code, row: i + 2, field: 'institution' },
        period: { text: period, row: i + 2, field: 'period' },
        metric: { text: metric, row: i + 2, field: 'metric' },
        value: { text: String(value), row: i + 2, field: 'value' },
      })),
      {
        fileName: null,
        bytes: Buffer.from(JSON.stringify([code, period, values])),
        format: 'json',
        rowCount: 1,
      },
      admin,
      now,
    );

  /**
   * Events of the threshold rule's alerts, as `period kind actor [comment] [suppressed] mails`: the
   * notifications queued for the routes' digests (one per route that takes the event).
   */
  const timeline = async (rule = 'bank_npl_ratio') => {
    const events = await t.db
      .selectFrom('alert_events as e')
      .innerJoin('alerts as a', 'a.id', 'e.alert_id')
      .leftJoin('notification_items as o', 'o.event_id', 'e.id')
      .select(({ fn }) => [
        'e.id',
        'e.period',
        'e.kind',
        'e.actor',
        'e.comment',
        'e.suppressed',
        fn.count<number>('o.id').as('mails'),
      ])
      .where('a.rule_id', '=', rule)
      .groupBy(['e.id', 'e.period', 'e.kind', 'e.actor', 'e.comment', 'e.suppressed'])
      .orderBy('e.id')
      .execute();
    return events.map((e) =>
      [
        e.period,
        e.kind,
        e.actor,
        e.comment ?? '',
        e.suppressed ? JSON.stringify(e.suppressed) : '',
        `mails=${Number(e.mails)}`,
      ].join(' | '),
    );
  };
  const alertOf = (rule: string, code = 'B1') =>
    t.db
      .selectFrom('alerts')
      .selectAll()
      .where('rule_id', '=', rule)
      .where('institution_code', '=', code)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();

  it('acknowledges, loses the acknowledgement on escalation, and resolves while silenced with no e-mail', async () => {
    await upload('B1', '2024-04', { npl_ratio: 4.5 }, at(5, 1));
    const alert = await alertOf('bank_npl_ratio');
    await actOnAlert(t.db, alert.id, { kind: 'acknowledge', comment: 'called the bank' }, 'li', at(5, 2));
    await upload('B1', '2024-05', { npl_ratio: 5.5 }, at(6, 1));
    const escalated = await alertOf('bank_npl_ratio');
    expect(escalated).toMatchObject({ severity: 'critical', acknowledged_at: null, acknowledged_by: null });

    const silence = await createSilence(
      t.db,
      { institution: 'B1', endsAt: at(8, 1), createdBy: 'wang', reason: 'capital injection under way' },
      {
        ruleIds: new Set(rules.rules.map((r) => r.id)),
        types: rules.catalog.types,
        counties: rules.catalog.counties,
      },
      at(6, 2),
    );
    await upload('B1', '2024-06', { npl_ratio: 1.2 }, at(7, 1));
    const silenced = JSON.stringify({ silenced_by: [silence.id], inhibited_by: [] });
    expect(await timeline()).toEqual([
      // Routes (shipped recipients.yaml): everyone, the bank desk (warning and above), leadership (critical).
      '2024-04 | firing | tester |  |  | mails=2',
      '2024-04 | acknowledged | li | called the bank |  | mails=0',
      '2024-05 | escalated | tester |  |  | mails=3',
      '2024-05 | unacknowledged | tester | escalated to critical: the acknowledgement was for a lower severity |  | mails=0',
      `2024-06 | resolved | tester |  | ${silenced} | mails=0`,
    ]);
    expect(await alertOf('bank_npl_ratio')).toMatchObject({ state: 'resolved', revision: 5 });
  });

  it('holds back a warning while a critical alert fires on the same institution and metric', async () => {
    await upload('B1', '2024-05', { npl_ratio: 1 }, at(6, 1));
    await upload('B1', '2024-06', { npl_ratio: 7 }, at(7, 1));
    const critical = await alertOf('bank_npl_ratio');
    const jump = await alertOf('bank_npl_ratio_jump');
    expect([critical.severity, jump.severity]).toEqual(['critical', 'warning']);
    expect(await timeline('bank_npl_ratio_jump')).toEqual([
      `2024-06 | firing | tester |  | ${JSON.stringify({ silenced_by: [], inhibited_by: [critical.id] })} | mails=0`,
    ]);
    expect(await timeline()).toEqual(['2024-06 | firing | tester |  |  | mails=3']);
    // Another bank's warning is not held back by B1's critical alert.
    await upload('B2', '2024-05', { npl_ratio: 1 }, at(6, 1));
    await upload('B2', '2024-06', { npl_ratio: 3 }, at(7, 1));
    expect((await timeline('bank_npl_ratio_jump')).at(-1)).toBe('2024-06 | firing | tester |  |  | mails=2');

    const [view] = await withSuppressionStatus(
      t.db,
      await listAlerts(t.db, { rule: 'bank_npl_ratio_jump', institution: 'B1' }),
      rules,
      at(7, 2),
    );
    expect(view).toMatchObject({ silenced_by: [], inhibited_by: [critical.id] });
  });

  it('does not open a closed breach again, but opens a new alert for a later breaching period', async () => {
    await upload('B1', '2024-05', { npl_ratio: 6 }, at(6, 1));
    const closedOne = await alertOf('bank_npl_ratio');
    await actOnAlert(
      t.db,
      closedOne.id,
      { kind: 'close', reason: 'a data error, corrected in June' },
      'li',
      at(6, 2),
    );
    await t.db.transaction().execute((trx) => evaluateInstitutions(trx, rules, ['B1'], at(6, 3), 'test'));
    await evaluateAll(t.db, () => rules, at(6, 4));
    const alerts = () =>
      t.db
        .selectFrom('alerts')
        .select(['id', 'state', 'period', 'closed_by', 'close_reason'])
        .where('rule_id', '=', 'bank_npl_ratio')
        .orderBy('id')
        .execute();
    expect(await alerts()).toEqual([
      {
        id: closedOne.id,
        state: 'resolved',
        period: '2024-05',
        closed_by: 'li',
        close_reason: 'a data error, corrected in June',
      },
    ]);
    await upload('B1', '2024-06', { npl_ratio: 6.5 }, at(7, 1));
    const after = await alerts();
    expect(after.map((a) => [a.state, a.period, a.closed_by])).toEqual([
      ['resolved', '2024-05', 'li'],
      ['firing', '2024-06', null],
    ]);
  });

  it('answers a stale revision and a second acknowledgement with their conflict codes', async () => {
    await upload('B1', '2024-05', { npl_ratio: 6 }, at(6, 1));
    const alert = await alertOf('bank_npl_ratio');
    const results = await Promise.allSettled([
      actOnAlert(t.db, alert.id, { kind: 'acknowledge' }, 'li', at(6, 2)),
      actOnAlert(t.db, alert.id, { kind: 'acknowledge' }, 'wang', at(6, 2)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ status: 409, code: 'alert_already_acknowledged' });
    await expect(
      actOnAlert(t.db, alert.id, { kind: 'assign', assignee: 'zhang' }, 'li', at(6, 3), alert.revision),
    ).rejects.toMatchObject({ status: 409, code: 'alert_changed' });
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'target'])
      .where('action', 'like', 'alerts.%')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('filters silenced alerts in SQL exactly as the view judges them', async () => {
    await upload('B1', '2024-05', { npl_ratio: 6 }, at(6, 1));
    await upload('B2', '2024-05', { npl_ratio: 4.5 }, at(6, 1));
    const vocabulary = {
      ruleIds: new Set(rules.rules.map((r) => r.id)),
      types: rules.catalog.types,
      counties: rules.catalog.counties,
    };
    await createSilence(
      t.db,
      { county: '晋江市', severity: 'warning', endsAt: at(7, 1), createdBy: 'li', reason: 'x' },
      vocabulary,
      at(6, 2),
    );
    await createSilence(
      t.db,
      { institution: 'B1', startsAt: at(6, 20), endsAt: at(7, 1), createdBy: 'li', reason: 'later' },
      vocabulary,
      at(6, 2),
    );
    for (const now of [at(6, 3), at(6, 21), at(7, 2)]) {
      const all = await withSuppressionStatus(t.db, await listAlerts(t.db, {}), rules, now);
      const silenced = (await listAlerts(t.db, { silenced: true, at: now })).map((a) => a.id).sort();
      const unsilenced = (await listAlerts(t.db, { silenced: false, at: now })).map((a) => a.id).sort();
      expect(silenced, now.toISOString()).toEqual(
        all
          .filter((a) => a.silenced_by.length > 0)
          .map((a) => a.id)
          .sort(),
      );
      expect(unsilenced.length + silenced.length).toBe(all.length);
    }
    expect((await listAlerts(t.db, { silenced: true, at: at(6, 3) })).map((a) => a.institution)).toEqual([
      'B2',
    ]);
  });

  describe('an alert never resolves for lack of data', () => {
    it('stays firing through a period with no filing at all', async () => {
      // Registered early enough that the June filing is owed.
      await sql`UPDATE institutions SET created_at = ${at(1, 1)}`.execute(t.db);
      await upload('B1', '2024-05', { npl_ratio: 6 }, at(6, 1));
      // Long past the June deadline, with nothing filed for June.
      await evaluateAll(t.db, () => rules, at(8, 20));
      expect(await alertOf('bank_npl_ratio')).toMatchObject({ state: 'firing', period: '2024-05' });
      const filing = await t.db
        .selectFrom('alerts')
        .select(['metric', 'period', 'state'])
        .where('metric', '=', 'filing:monthly')
        .orderBy('period')
        .execute();
      expect(filing.map((f) => f.period)).toContain('2024-06');
    });

    it('stays firing when the next filing lacks the metric', async () => {
      await upload('B1', '2024-05', { npl_ratio: 6 }, at(6, 1));
      await upload('B1', '2024-06', { total_loans: 1000 }, at(7, 1));
      await evaluateAll(t.db, () => rules, at(7, 2));
      expect(await alertOf('bank_npl_ratio')).toMatchObject({ state: 'firing', period: '2024-05' });
    });

    it('stays firing when a resubmission of the breaching period drops the metric', async () => {
      await upload('B1', '2024-04', { npl_ratio: 1 }, at(5, 1));
      await upload('B1', '2024-05', { npl_ratio: 6 }, at(6, 1));
      await upload('B1', '2024-05', { total_loans: 1000 }, at(6, 2));
      await evaluateAll(t.db, () => rules, at(6, 3));
      expect(await alertOf('bank_npl_ratio')).toMatchObject({ state: 'firing', period: '2024-05' });
    });
  });
});
