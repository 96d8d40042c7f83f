import { type AlertFilter, listAlerts } from '../../src/alerts/alert.repository.js';
import type { RulesSnapshot } from '../../src/alerts/evaluation.service.js';
import { fingerprintOf } from '../../src/rules/evaluate.js';
import { clonedPopulation, seedInstitutions } from '../lib/data.js';
import type { BenchEngine } from '../lib/engine.js';
import { END_PERIOD, NOW } from './ingest.js';

export interface AlertQueryResult {
  readonly engine: string;
  readonly label: string;
  readonly rows: number;
  readonly samplesMs: number[];
}

const DAY_MS = 86_400_000;

/**
 * Fills the alerts table with `count` alerts over `copies` × 20 institutions, cycling through every
 * (rule, covered institution) pair: each pair's first alert is pending or firing, later ones (when the
 * pairs run out) are resolved history. Updated over the past year, so the newest-first sort has work.
 */
export async function seedAlerts(
  engine: BenchEngine,
  snapshot: RulesSnapshot,
  copies: number,
  count: number,
) {
  const { institutions } = clonedPopulation(copies, END_PERIOD, 1);
  await engine.truncate();
  await seedInstitutions(engine.db, institutions);
  const pairs = snapshot.rules.flatMap((rule) =>
    rule.kind === 'threshold'
      ? institutions.filter((i) => rule.types.includes(i.type)).map((i) => ({ rule, institution: i }))
      : [],
  );
  const rows = Array.from({ length: count }, (_, n) => {
    const { rule, institution } = pairs[n % pairs.length] as (typeof pairs)[number];
    const round = Math.floor(n / pairs.length);
    // Among current alerts: 1 in 3 resolved, then pending and firing alternate.
    const state = round > 0 || n % 3 === 0 ? 'resolved' : n % 3 === 1 ? 'pending' : 'firing';
    const severity = n % 4 === 0 ? 'critical' : 'warning';
    const updated = new Date(NOW.getTime() - ((n * 7919) % 365) * DAY_MS - n * 1000);
    const value = 5 + (n % 100) / 10;
    return {
      fingerprint: fingerprintOf(rule.id, institution.code, rule.metric),
      rule_id: rule.id,
      institution_code: institution.code,
      metric: rule.metric,
      state: state as 'resolved' | 'pending' | 'firing',
      severity,
      value,
      threshold: 5,
      period: END_PERIOD,
      first_period: END_PERIOD,
      periods: 1 + (n % 6),
      submission_id: null,
      summary: JSON.stringify({
        zh: `${institution.name}（${institution.code}）${END_PERIOD}${rule.metric}为${value}，高于阈值5，已连续${1 + (n % 6)}期`,
        en: `${institution.name} (${institution.code}): ${rule.metric} ${value} in ${END_PERIOD}, above the threshold of 5`,
      }),
      source: rule.source,
      started_at: new Date(updated.getTime() - 30 * DAY_MS),
      fired_at: state === 'pending' ? null : updated,
      resolved_at: state === 'resolved' ? updated : null,
      updated_at: updated,
    };
  });
  for (let i = 0; i < rows.length; i += 1000) {
    await engine.db
      .insertInto('alerts')
      .values(rows.slice(i, i + 1000))
      .execute();
  }
  return institutions;
}

/** listAlerts latency with `count` alerts stored: several filters, `samples` calls each after a warm-up. */
export async function runAlertQueries(
  engine: BenchEngine,
  snapshot: RulesSnapshot,
  copies: number,
  count: number,
  samples: number,
): Promise<AlertQueryResult[]> {
  const institutions = await seedAlerts(engine, snapshot, copies, count);
  const someBank = institutions.find((i) => i.type !== 'financing_guarantee' && i.type !== 'microloan');
  const queries: Array<{ label: string; filter: AlertFilter }> = [
    { label: 'no filter (default limit 500)', filter: {} },
    { label: 'state=firing', filter: { state: 'firing' } },
    { label: 'state=firing&severity=critical', filter: { state: 'firing', severity: 'critical' } },
    { label: 'institution=<one bank>', filter: { institution: someBank?.code } },
    { label: 'rule=<one rule>, limit 50', filter: { rule: snapshot.rules[0]?.id, limit: 50 } },
  ];
  const results: AlertQueryResult[] = [];
  for (const q of queries) {
    const rows = (await listAlerts(engine.db, q.filter)).length;
    const samplesMs: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      await listAlerts(engine.db, q.filter);
      samplesMs.push(performance.now() - started);
    }
    results.push({ engine: engine.name, label: q.label, rows, samplesMs });
  }
  await engine.truncate();
  return results;
}
