/**
 * EXPERIMENT, not production code: `submitObservations` with its per-(institution, period) statements
 * made set-based, to measure what batching would gain. Same validation, same rows written, same
 * evaluation and outbox; only the number of round trips differs:
 *
 * - production `storeVersion` runs 4 statements per (institution, period): an advisory lock, an UPDATE
 *   of the previous version, an INSERT of the submission, an INSERT of its observations;
 * - production `evaluateInstitutions` takes one advisory lock per institution, one statement each.
 *
 * - production `recordTransitions` runs 2 statements per transition (the alert, then its event).
 *
 * Here: one statement taking every submission lock (in key order), one UPDATE for every previous
 * version, one INSERT for every submission, one INSERT per 5000 observations, and one statement for
 * every evaluation lock (in code order), whatever the size of the upload. With `batchTransitions`,
 * new alerts are also inserted in one statement and all alert events in another (updates of existing
 * alerts stay one statement each; a first import has none).
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import {
  loadActiveAlerts,
  type RecordedTransition,
  recordTransitions,
} from '../../src/alerts/alert.repository.js';
import type { Transition } from '../../src/alerts/alert.types.js';
import { loadCurrentObservations, type RulesSnapshot } from '../../src/alerts/evaluation.service.js';
import { recordAudit } from '../../src/audit/audit.repository.js';
import type { Principal } from '../../src/auth/api-key.js';
import type { Database } from '../../src/db/schema.js';
import type { RawObservation } from '../../src/ingest/observation.types.js';
import { validateObservations } from '../../src/ingest/observation.validator.js';
import type { UploadMeta } from '../../src/ingest/submission.service.js';
import { findInstitutions } from '../../src/institutions/institution.repository.js';
import { enqueueNotifications } from '../../src/notify/outbox.repository.js';
import { evaluate } from '../../src/rules/evaluate.js';

const OBSERVATIONS_PER_INSERT = 5000;

/** Takes transaction-scoped advisory locks on all keys in one statement, in key order. */
async function lockAll(trx: Kysely<Database>, keys: readonly string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  await sql`SELECT count(pg_advisory_xact_lock(hashtext(k))) FROM (SELECT k FROM (VALUES ${sql.join(
    sorted.map((k) => sql`(${k}::text)`),
  )}) AS v(k) ORDER BY k) AS ordered`.execute(trx);
}

function alertColumns(t: Transition) {
  const a = t.alert;
  return {
    state: t.to,
    severity: a.severity,
    value: Number.isFinite(a.value) ? a.value : null,
    threshold: Number.isFinite(a.threshold) ? a.threshold : null,
    period: a.period,
    first_period: a.firstPeriod,
    periods: a.periods,
    submission_id: a.submissionId,
    summary: JSON.stringify(a.summary),
    source: a.source,
    fired_at: a.firedAt,
    resolved_at: t.to === 'resolved' ? t.at : null,
    updated_at: t.at,
  } as const;
}

/** recordTransitions with one INSERT for all new alerts and one for all events. */
async function recordTransitionsBatched(
  db: Kysely<Database>,
  transitions: readonly Transition[],
  actor: string,
): Promise<RecordedTransition[]> {
  if (transitions.length === 0) return [];
  const alertIds = new Map<string, number>();
  const created = transitions.filter((t) => t.from === null);
  if (created.length > 0) {
    const rows = await db
      .insertInto('alerts')
      .values(
        created.map((t) => ({
          fingerprint: t.alert.fingerprint,
          rule_id: t.alert.ruleId,
          institution_code: t.alert.institution,
          metric: t.alert.metric,
          started_at: t.alert.startedAt,
          ...alertColumns(t),
        })),
      )
      .returning(['id', 'fingerprint'])
      .execute();
    for (const r of rows) alertIds.set(r.fingerprint, r.id);
  }
  for (const t of transitions) {
    if (t.from === null) continue;
    const row = await db
      .updateTable('alerts')
      .set(alertColumns(t))
      .where('fingerprint', '=', t.alert.fingerprint)
      .where('state', '<>', 'resolved')
      .returning('id')
      .executeTakeFirstOrThrow();
    alertIds.set(t.alert.fingerprint, row.id);
  }
  const events = await db
    .insertInto('alert_events')
    .values(
      transitions.map((t) => ({
        alert_id: alertIds.get(t.alert.fingerprint) as number,
        at: t.at,
        kind: t.kind,
        from_state: t.from,
        to_state: t.to,
        severity: t.alert.severity,
        value: Number.isFinite(t.alert.value) ? t.alert.value : null,
        period: t.alert.period,
        actor,
      })),
    )
    .returning(['id', 'alert_id'])
    .execute();
  // One transition per alert in an evaluation, so the alert id tells which event is whose.
  const eventIds = new Map(events.map((e) => [e.alert_id, e.id]));
  return transitions.map((t) => {
    const alertId = alertIds.get(t.alert.fingerprint) as number;
    return { alertId, eventId: eventIds.get(alertId) as number, transition: t };
  });
}

/** The batched variant; returns what production returns, less the receipt's presentation details. */
export async function submitObservationsBatched(
  deps: { db: Kysely<Database>; snapshot: () => RulesSnapshot },
  raw: readonly RawObservation[],
  meta: UploadMeta,
  principal: Principal,
  now: Date,
  options: { batchTransitions: boolean },
): Promise<{ submissions: number; observations: number; alerts: RecordedTransition[] }> {
  const snapshot = deps.snapshot();
  const institutions = await findInstitutions(
    deps.db,
    raw.map((r) => r.institution.text.trim()),
  );
  const { drafts, errors } = validateObservations(raw, {
    catalog: snapshot.catalog,
    institutions,
    principal,
  });
  if (errors.length > 0) throw new Error(`validation failed: ${errors.length} error(s)`);
  const sha256 = createHash('sha256').update(meta.bytes).digest('hex');
  return deps.db.transaction().execute(async (trx) => {
    const upload = await trx
      .insertInto('uploads')
      .values({
        file_name: meta.fileName,
        file_sha256: sha256,
        format: meta.format,
        row_count: meta.rowCount,
        uploaded_by: principal.name,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    // 1. Every submission lock at once.
    await lockAll(
      trx,
      drafts.map((d) => `submission:${d.institution}:${d.period}`),
    );
    // 2. Supersede every previous version at once.
    const key = (code: string, period: string) => `${code}\u0000${period}`;
    const previous = new Map<string, number>();
    if (drafts.length > 0) {
      const { rows } = await sql<{ institution_code: string; period: string; version: number }>`
        UPDATE submissions AS s SET is_current = false
        FROM (VALUES ${sql.join(drafts.map((d) => sql`(${d.institution}::text, ${d.period}::text)`))}) AS d(code, period)
        WHERE s.institution_code = d.code AND s.period = d.period AND s.is_current
        RETURNING s.institution_code, s.period, s.version`.execute(trx);
      for (const r of rows) previous.set(key(r.institution_code, r.period), r.version);
    }
    // 3. Every new version in one INSERT.
    const inserted = await trx
      .insertInto('submissions')
      .values(
        drafts.map((d) => ({
          upload_id: upload.id,
          institution_code: d.institution,
          period: d.period,
          version: (previous.get(key(d.institution, d.period)) ?? 0) + 1,
          created_at: now,
        })),
      )
      .returning(['id', 'institution_code', 'period', 'version'])
      .execute();
    const ids = new Map(inserted.map((r) => [key(r.institution_code, r.period), r.id]));
    // 4. Every observation, reported and derived, in a few INSERTs.
    const rows = drafts.flatMap((d) => {
      const type = institutions.get(d.institution)?.type as string;
      const derived = snapshot.catalog.derive(type, d.values);
      const submission_id = ids.get(key(d.institution, d.period)) as number;
      return [
        ...Object.entries(d.values).map(([metric, value]) => ({ metric, value, derived: false })),
        ...Object.entries(derived).map(([metric, value]) => ({ metric, value, derived: true })),
      ].map((r) => ({ ...r, submission_id, institution_code: d.institution, period: d.period }));
    });
    for (let i = 0; i < rows.length; i += OBSERVATIONS_PER_INSERT) {
      await trx
        .insertInto('observations')
        .values(rows.slice(i, i + OBSERVATIONS_PER_INSERT))
        .execute();
    }

    // Evaluation as in evaluateInstitutions, with its per-institution locks taken in one statement.
    const codes = [...new Set(drafts.map((d) => d.institution))].sort();
    await lockAll(
      trx,
      codes.map((c) => `evaluate:${c}`),
    );
    const [refs, observations, active] = await Promise.all([
      trx
        .selectFrom('institutions')
        .select(['code', 'name', 'type', 'county'])
        .where('code', 'in', codes)
        .execute(),
      loadCurrentObservations(trx, codes),
      loadActiveAlerts(trx, codes),
    ]);
    const result = evaluate({
      rules: snapshot.rules,
      catalog: snapshot.catalog,
      institutions: refs,
      observations,
      previous: active,
      now,
    });
    const recorded = await (options.batchTransitions ? recordTransitionsBatched : recordTransitions)(
      trx,
      result.transitions,
      principal.name,
    );
    const byCode = new Map(refs.map((i) => [i.code, i]));
    await enqueueNotifications(
      trx,
      recorded.map((r) => {
        const metric = snapshot.catalog.metrics.get(r.transition.alert.metric);
        return {
          transition: r.transition,
          alertId: r.alertId,
          eventId: r.eventId,
          institution: r.transition.alert.institution
            ? (byCode.get(r.transition.alert.institution) ?? null)
            : null,
          metric: {
            code: r.transition.alert.metric,
            name: metric?.name ?? { zh: r.transition.alert.metric, en: r.transition.alert.metric },
            unit: metric?.unit ?? '',
          },
        };
      }),
      [...snapshot.routes],
    );
    await recordAudit(trx, {
      actor: principal.name,
      action: 'submissions.create',
      target: codes.length === 1 ? codes[0] : null,
      details: {
        upload_id: upload.id,
        sha256,
        submissions: inserted.map((s) => ({
          id: s.id,
          institution: s.institution_code,
          period: s.period,
          version: s.version,
        })),
      },
    });
    return { submissions: inserted.length, observations: rows.length, alerts: recorded };
  });
}
