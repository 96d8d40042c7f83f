import type { Kysely } from 'kysely';
import { anyOf } from '../db/any-of.js';
import type { Database } from '../db/schema.js';
import { alertLabels } from './alert.labels.js';
import type { AlertView } from './alert.repository.js';
import { inhibitionsNeedSame } from './inhibition.js';
import { loadActiveSilences } from './silence.repository.js';
import { suppressionOf } from './suppression.js';
import { loadFiringAlerts, type SuppressionConfig } from './suppression.service.js';

/** An alert as the API shows it, with what holds its notifications back now (as Alertmanager shows it). */
export interface AlertStatusView extends AlertView {
  /** Silences in force now that match the alert; empty for a resolved alert. */
  readonly silenced_by: readonly number[];
  /** Firing alerts inhibiting it now under `inhibitions.yaml`; empty for a resolved alert. */
  readonly inhibited_by: readonly number[];
}

/**
 * Adds `silenced_by` and `inhibited_by` at `at` to alert views, judged as notifications are
 * (`suppressionOf`), in three reads whatever the number of alerts.
 */
export async function withSuppressionStatus(
  db: Kysely<Database>,
  views: readonly AlertView[],
  config: SuppressionConfig,
  at: Date,
): Promise<AlertStatusView[]> {
  const active = views.filter((v) => v.state !== 'resolved');
  const none = { silenced_by: [], inhibited_by: [] };
  if (active.length === 0) return views.map((v) => ({ ...v, ...none }));
  const codes = [...new Set(active.flatMap((v) => v.institution ?? []))];
  const kinds = new Map(config.rules.map((r) => [r.id, r.kind]));
  const [silences, institutions, activeAlerts] = await Promise.all([
    loadActiveSilences(db, at),
    codes.length === 0
      ? []
      : db
          .selectFrom('institutions')
          .select(['code', 'type', 'county'])
          .where('code', '=', anyOf(codes))
          .execute(),
    config.inhibitions.length === 0
      ? []
      : loadFiringAlerts(
          db,
          kinds,
          inhibitionsNeedSame(config.inhibitions, 'institution') ? codes : undefined,
        ),
  ]);
  const byCode = new Map(institutions.map((i) => [i.code, i]));
  return views.map((v) => {
    if (v.state === 'resolved') return { ...v, ...none };
    const institution = v.institution ? byCode.get(v.institution) : undefined;
    const labels = alertLabels({
      ruleId: v.rule,
      ruleKind: kinds.get(v.rule),
      severity: v.severity,
      metric: v.metric,
      period: v.period,
      institution: v.institution,
      institutionType: institution?.type,
      county: institution?.county,
      region: v.region,
    });
    const s = suppressionOf(
      { id: v.id, state: v.state, labels },
      { silences, inhibitions: config.inhibitions, activeAlerts, at },
    );
    return { ...v, silenced_by: s.silencedBy ?? [], inhibited_by: s.inhibitedBy ?? [] };
  });
}
