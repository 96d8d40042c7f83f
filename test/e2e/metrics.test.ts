import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };
const promtool = spawnSync('promtool', ['--version']).status === 0;
// CI installs Prometheus's tools and sets REQUIRE_PROMTOOL, so there this check can never be skipped.
const lint = promtool || process.env.REQUIRE_PROMTOOL ? it : it.skip;

/** Drops prom-client's default process metrics, which promtool flags and which are not ours to rename. */
function ownMetrics(text: string): string {
  const blocks = text.split(/\n(?=# HELP )/);
  return `${blocks
    .filter((b) => /^# HELP riskwatch_/.test(b))
    .join('\n')
    .trimEnd()}\n`;
}

describe('/metrics', () => {
  let t: TestService;
  beforeAll(async () => {
    t = await createTestService({ METRICS_TOKEN: 'scrape-secret' });
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'G1', name: '担保一号', type: 'financing_guarantee', county: '石狮市' })
      .expect(201);
    await request(t.app)
      .post('/api/v1/submissions')
      .set(admin)
      .send({
        institution: 'G1',
        period: '2024-06',
        values: { guarantee_liability: 125_000, net_assets: 10_000 },
      })
      .expect(201);
    await request(t.app)
      .post('/api/v1/submissions')
      .set(admin)
      .send({ institution: 'G1', period: '2024-06', values: { guarantee_liability: 'x' } })
      .expect(422);
  });
  afterAll(async () => t.close());

  it('is refused without the metrics token when one is configured', async () => {
    await request(t.app).get('/metrics').expect(401);
    await request(t.app).get('/metrics').set({ Authorization: 'Bearer wrong' }).expect(401);
  });

  it('exposes values, alerts and submission counts', async () => {
    const res = await request(t.app)
      .get('/metrics')
      .set({ Authorization: 'Bearer scrape-secret' })
      .expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toContain(
      'riskwatch_institution_metric_value{institution="G1",institution_type="financing_guarantee",county="石狮市",metric="guarantee_leverage",unit="times"} 12.5',
    );
    expect(res.text).toMatch(
      /riskwatch_alerts_firing\{severity="critical",rule="[a-z_]+",institution_type="financing_guarantee",county="石狮市"\} 1/,
    );
    expect(res.text).toContain('riskwatch_submissions_total{result="accepted"} 1');
    expect(res.text).toContain('riskwatch_submissions_total{result="rejected"} 1');
    expect(res.text).toContain('riskwatch_validation_errors_total{code="invalid_number"} 1');
  });

  lint('passes promtool check metrics', async () => {
    const res = await request(t.app)
      .get('/metrics')
      .set({ Authorization: 'Bearer scrape-secret' })
      .expect(200);
    const checked = spawnSync('promtool', ['check', 'metrics'], {
      input: ownMetrics(res.text),
      encoding: 'utf8',
    });
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.status).toBe(0);
  });
});
