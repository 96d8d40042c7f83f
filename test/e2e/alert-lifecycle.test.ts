import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };
const day = (month: number, d: number) => new Date(Date.UTC(2024, month - 1, d, 2));

describe('the alert lifecycle through HTTP', () => {
  let t: TestService;
  let supervisor: Record<string, string>;
  let institution: Record<string, string>;
  let alertId: number;
  let now = day(6, 1);
  beforeAll(async () => {
    t = await createTestService({}, () => now);
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'B1', name: '一号农商行', type: 'rural_commercial_bank', county: '晋江市' })
      .expect(201);
    const key = async (body: object) =>
      `Bearer ${(await request(t.app).post('/api/v1/keys').set(admin).send(body).expect(201)).body.token}`;
    supervisor = { Authorization: await key({ name: 'li-supervisor', role: 'supervisor' }) };
    institution = { Authorization: await key({ name: 'b1-filer', role: 'institution', institution: 'B1' }) };
    const receipt = await request(t.app)
      .post('/api/v1/submissions')
      .set(admin)
      .send({ institution: 'B1', period: '2024-05', values: { npl_ratio: 6.2 } })
      .expect(201);
    alertId = receipt.body.alerts[0].id;
  });
  afterAll(async () => t.close());

  const act = (path: string, body: object, headers = supervisor) =>
    request(t.app).post(`/api/v1/alerts/${alertId}/${path}`).set(headers).send(body);

  it('lets an institution key read its alert but not act on it', async () => {
    await request(t.app).get(`/api/v1/alerts/${alertId}`).set(institution).expect(200);
    for (const path of ['acknowledge', 'unacknowledge', 'assign', 'close', 'comments']) {
      const res = await act(path, { comment: 'x', reason: 'x', assignee: 'x' }, institution);
      expect(res.status, path).toBe(403);
    }
    await request(t.app).get('/api/v1/silences').set(institution).expect(403);
  });

  it('acknowledges with the key name as actor, refuses a second time, and checks revisions', async () => {
    const seen = (await request(t.app).get(`/api/v1/alerts/${alertId}`).set(supervisor).expect(200)).body
      .alert;
    const acked = await act('acknowledge', { comment: '已电话联系', revision: seen.revision }).expect(200);
    expect(acked.body.alert).toMatchObject({
      acknowledged: { by: 'li-supervisor', at: day(6, 1).toISOString(), comment: '已电话联系' },
      revision: seen.revision + 1,
    });
    expect(acked.body.event).toMatchObject({ kind: 'acknowledged' });
    const again = await act('acknowledge', {}).expect(409);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(again.body).toMatchObject({ code: 'alert_already_acknowledged', status: 409 });
    const stale = await act('unacknowledge', { revision: seen.revision }).expect(409);
    expect(stale.body.code).toBe('alert_changed');
    await act('unacknowledge', { revision: seen.revision + 1 }).expect(200);
    expect((await act('unacknowledge', {}).expect(409)).body.code).toBe('alert_not_acknowledged');
    await act('acknowledge', {}).expect(200);
  });

  it('assigns, filters by assignee and acknowledgement, and takes comments', async () => {
    expect((await act('assign', { assignee: '张科长' }).expect(200)).body.alert.assignee).toBe('张科长');
    expect((await act('assign', { assignee: '张科长' }).expect(200)).body.event).toBeNull();
    const list = (query: string) =>
      request(t.app)
        .get(`/api/v1/alerts?${query}`)
        .set(supervisor)
        .expect(200)
        .then((r) => r.body.alerts.map((a: { id: number }) => a.id));
    expect(await list(`assignee=${encodeURIComponent('张科长')}`)).toEqual([alertId]);
    expect(await list('acknowledged=true')).toEqual([alertId]);
    expect(await list('acknowledged=false')).toEqual([]);
    expect((await request(t.app).get('/api/v1/alerts?acknowledged=yes').set(supervisor)).status).toBe(400);
    await act('comments', { comment: '银行称系核销延迟' }).expect(201);
    expect((await act('comments', {}).expect(422)).body.code).toBe('invalid_body');
  });

  it('silences by institution, shows it on the alert and in filters, and expires it without deleting it', async () => {
    const invalid = await request(t.app)
      .post('/api/v1/silences')
      .set(supervisor)
      .send({ matchers: { institution: 'NOPE' }, ends_at: day(5, 1).toISOString(), reason: ' ' })
      .expect(422);
    expect(invalid.body.errors.map((e: { code: string }) => e.code).sort()).toEqual([
      'reason_required',
      'silence_ends_in_past',
      'unknown_institution',
    ]);
    const empty = await request(t.app)
      .post('/api/v1/silences')
      .set(supervisor)
      .send({ matchers: {}, ends_at: day(7, 1).toISOString(), reason: 'x' })
      .expect(422);
    expect(empty.body.errors.map((e: { code: string }) => e.code)).toEqual(['silence_matches_everything']);

    const created = await request(t.app)
      .post('/api/v1/silences')
      .set(supervisor)
      .send({
        matchers: { institution: 'B1', severity: 'critical' },
        ends_at: day(7, 1).toISOString(),
        reason: '重组中',
      })
      .expect(201);
    expect(created.body).toMatchObject({
      state: 'active',
      created_by: 'li-supervisor',
      starts_at: day(6, 1).toISOString(),
      matchers: { institution: 'B1', severity: 'critical', rule: null },
      expired: null,
    });
    const id = created.body.id;
    const alert = (await request(t.app).get(`/api/v1/alerts/${alertId}`).set(supervisor).expect(200)).body
      .alert;
    expect(alert.silenced_by).toEqual([id]);
    const silenced = await request(t.app).get('/api/v1/alerts?silenced=true').set(supervisor).expect(200);
    expect(silenced.body.alerts.map((a: { id: number }) => a.id)).toEqual([alertId]);
    expect(
      (await request(t.app).get('/api/v1/silences?state=active').set(supervisor).expect(200)).body.silences,
    ).toHaveLength(1);

    now = day(6, 5);
    const expired = await request(t.app).delete(`/api/v1/silences/${id}`).set(supervisor).expect(200);
    expect(expired.body).toMatchObject({
      state: 'expired',
      expires_at: day(6, 5).toISOString(),
      expired: { by: 'li-supervisor', at: day(6, 5).toISOString() },
    });
    expect(
      (await request(t.app).delete(`/api/v1/silences/${id}`).set(supervisor).expect(409)).body.code,
    ).toBe('silence_expired');
    expect((await request(t.app).get(`/api/v1/silences/${id}`).set(supervisor).expect(200)).body.state).toBe(
      'expired',
    );
    await request(t.app).delete('/api/v1/silences/999999').set(supervisor).expect(404);
    const metrics = await request(t.app).get('/metrics').expect(200);
    expect(metrics.text).toContain('riskwatch_silences{state="expired"} 1');
    expect(metrics.text).toContain('riskwatch_silences{state="active"} 0');
    expect(metrics.text).toMatch(/riskwatch_alert_notifications_suppressed_total\{reason="silenced"\} \d+/);
  });

  it('closes with a required reason, then allows only comments, and shows the whole history', async () => {
    expect((await act('close', {}).expect(422)).body.code).toBe('invalid_body');
    const closed = await act('close', { reason: '数据报送错误，已核实更正' }).expect(200);
    expect(closed.body.alert).toMatchObject({
      state: 'resolved',
      closed: { by: 'li-supervisor', reason: '数据报送错误，已核实更正' },
      acknowledged: { by: 'li-supervisor' },
      assignee: '张科长',
      silenced_by: [],
    });
    expect((await act('acknowledge', {}).expect(409)).body.code).toBe('alert_resolved');
    await act('comments', { comment: '结案' }).expect(201);
    const events = (await request(t.app).get(`/api/v1/alerts/${alertId}/events`).set(institution).expect(200))
      .body.events;
    expect(
      events.map((e: { kind: string; actor: string; comment: string | null }) => [
        e.kind,
        e.actor,
        e.comment,
      ]),
    ).toEqual([
      ['firing', 'admin-token', null],
      ['acknowledged', 'li-supervisor', '已电话联系'],
      ['unacknowledged', 'li-supervisor', null],
      ['acknowledged', 'li-supervisor', null],
      ['assigned', 'li-supervisor', null],
      ['commented', 'li-supervisor', '银行称系核销延迟'],
      ['closed', 'li-supervisor', '数据报送错误，已核实更正'],
      ['commented', 'li-supervisor', '结案'],
    ]);
    const audit = await t.db.db
      .selectFrom('audit_log')
      .select('action')
      .where((eb) => eb.or([eb('action', 'like', 'alerts.%'), eb('action', 'like', 'silences.%')]))
      .orderBy('id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'alerts.acknowledge',
      'alerts.unacknowledge',
      'alerts.acknowledge',
      'alerts.assign',
      'alerts.comment',
      'silences.create',
      'silences.expire',
      'alerts.close',
      'alerts.comment',
    ]);
  });
});
