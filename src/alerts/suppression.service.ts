import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { anyOf } from '../db/any-of.js';
import type { Database, EventSuppression } from '../db/schema.js';
import type { InstitutionRef } from '../rules/evaluate.js';
import { regionKey } from '../rules/rule.region-ref.js';
import type { Rule } from '../rules/rule.schema.js';
import { alertLabels, type LabelledAlert } from './alert.labels.js';
import type { RecordedTransition } from './alert.repository.js';
import { type InhibitRule, inhibitionsNeedSame } from './inhibition.js';
import { loadActiveSilences } from './silence.repository.js';
import { isSuppressed, suppressionOf } from './suppression.js';

/** What suppression reads of the configuration in force: rules (for `kind`) and inhibit rules. */
export interface SuppressionConfig {
  readonly rules: readonly Rule[];
  readonly inhibitions: readonly InhibitRule[];
}

/**
 * The notified transitions whose notification goes out: the others are silenced or inhibited at their
 * time, and their events get a `suppressed` note naming the silences and inhibiting alerts, so the
 * history shows e.g. "resolved while silenced". Run it in the evaluation's transaction after the
 * transitions are stored (the alerts that inhibit are read as they now stand). The one place that
 * decides what is held back, so whatever enqueues notifications (per transition or grouped) calls it.
 */
export async function withoutSuppressed(
  trx: Kysely<Database>,
  config: SuppressionConfig,
  institutions: readonly InstitutionRef[],
  notified: readonly RecordedTransition[],
): Promise<RecordedTransition[]> {
  const first = notified[0];
  if (!first) return [];
  const at = first.transition.at;
  const silences = await loadActiveSilences(trx, at);
  if (silences.length === 0 && config.inhibitions.length === 0) return [...notified];
  const kinds = new Map(config.rules.map((r) => [r.id, r.kind]));
  const byCode = new Map(institutions.map((i) => [i.code, i]));
  const codes = [...new Set(notified.flatMap((r) => r.transition.alert.institution ?? []))];
  const activeAlerts =
    config.inhibitions.length === 0
      ? []
      : await loadFiringAlerts(
          trx,
          kinds,
          inhibitionsNeedSame(config.inhibitions, 'institution') ? codes : undefined,
        );
  const notes: { eventId: number; note: EventSuppression }[] = [];
  const kept = notified.filter((r) => {
    const { alert, to, at: when } = r.transition;
    const institution = alert.institution ? byCode.get(alert.institution) : undefined;
    const target: LabelledAlert = {
      id: r.alertId,
      state: to,
      labels: alertLabels({
        ruleId: alert.ruleId,
        ruleKind: kinds.get(alert.ruleId),
        severity: alert.severity,
        metric: alert.metric,
        period: alert.period,
        institution: alert.institution,
        institutionType: institution?.type,
        county: institution?.county,
        region: alert.region ? regionKey(alert.region) : null,
      }),
    };
    const suppression = suppressionOf(target, {
      silences,
      inhibitions: config.inhibitions,
      activeAlerts,
      at: when,
    });
    if (!isSuppressed(suppression)) return true;
    notes.push({
      eventId: r.eventId,
      note: { silenced_by: suppression.silencedBy ?? [], inhibited_by: suppression.inhibitedBy ?? [] },
    });
    return false;
  });
  if (notes.length > 0) {
    await sql`
      UPDATE alert_events AS e SET suppressed = v.note::jsonb
      FROM unnest(${notes.map((n) => n.eventId)}::bigint[], ${notes.map((n) => JSON.stringify(n.note))}::text[])
        AS v(id, note)
      WHERE e.id = v.id`.execute(trx);
  }
  return kept;
}

/**
 * The firing alerts, labelled, that may inhibit: those of `codes` (when every inhibit rule needs the
 * same institution), else every one.
 */
export async function loadFiringAlerts(
  db: Kysely<Database>,
  kinds: ReadonlyMap<string, string>,
  codes?: readonly string[],
): Promise<LabelledAlert[]> {
  if (codes?.length === 0) return [];
  let q = db
    .selectFrom('alerts as a')
    .leftJoin('institutions as i', 'i.code', 'a.institution_code')
    .select([
      'a.id',
      'a.state',
      'a.rule_id',
      'a.severity',
      'a.metric',
      'a.period',
      'a.institution_code',
      'a.region',
    ])
    .select(['i.type', 'i.county'])
    .where('a.state', '=', 'firing');
  if (codes) q = q.where('a.institution_code', '=', anyOf(codes));
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    state: r.state,
    labels: alertLabels({
      ruleId: r.rule_id,
      ruleKind: kinds.get(r.rule_id),
      severity: r.severity,
      metric: r.metric,
      period: r.period,
      institution: r.institution_code,
      institutionType: r.type,
      county: r.county,
      region: r.region,
    }),
  }));
}
