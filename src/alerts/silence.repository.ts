import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database, SilenceRow } from '../db/schema.js';
import { SILENCE_STATES, type Silence, type SilenceState, silenceEnd, silenceState } from './silence.js';

export function toSilence(row: SilenceRow): Silence {
  return {
    id: row.id,
    ruleId: row.rule_id,
    institution: row.institution_code,
    institutionType: row.institution_type,
    county: row.county,
    severity: row.severity,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    createdBy: row.created_by,
    reason: row.reason,
    createdAt: row.created_at,
    expiredAt: row.expired_at,
    expiredBy: row.expired_by,
  };
}

/** A silence as the API shows it, with its state at the time asked. */
export interface SilenceView {
  readonly id: number;
  readonly state: SilenceState;
  readonly matchers: {
    readonly rule: string | null;
    readonly institution: string | null;
    readonly institution_type: string | null;
    readonly county: string | null;
    readonly severity: string | null;
  };
  readonly starts_at: string;
  readonly ends_at: string;
  /** When it stopped (or stops) holding notifications back: `ends_at`, or when it was expired by hand. */
  readonly expires_at: string;
  readonly created_by: string;
  readonly reason: string;
  readonly created_at: string;
  /** Set when someone expired it before `ends_at`. */
  readonly expired: { readonly by: string; readonly at: string } | null;
}

export function toSilenceView(s: Silence, at: Date): SilenceView {
  return {
    id: s.id,
    state: silenceState(s, at),
    matchers: {
      rule: s.ruleId,
      institution: s.institution,
      institution_type: s.institutionType,
      county: s.county,
      severity: s.severity,
    },
    starts_at: s.startsAt.toISOString(),
    ends_at: s.endsAt.toISOString(),
    expires_at: silenceEnd(s).toISOString(),
    created_by: s.createdBy,
    reason: s.reason,
    created_at: s.createdAt.toISOString(),
    expired: s.expiredAt && s.expiredBy ? { by: s.expiredBy, at: s.expiredAt.toISOString() } : null,
  };
}

/** SQL true for a silence row `s` in force at `at`, the same as `silenceState(s, at) === 'active'`. */
function activeAt(at: Date): RawBuilder<boolean> {
  return sql<boolean>`(s.starts_at <= ${at} AND s.ends_at > ${at} AND (s.expired_at IS NULL OR s.expired_at > ${at}))`;
}

/**
 * SQL true for an alert row aliased `a` matched by a silence active at `at`: the same test as
 * `silenceMatches` over `alertLabels`, institution type and county read from the alert's institution
 * (a regional alert has neither, so a silence naming them never matches it).
 */
export function silencedAlertSql(at: Date): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM silences s LEFT JOIN institutions i ON i.code = a.institution_code
    WHERE ${activeAt(at)}
      AND (s.rule_id IS NULL OR s.rule_id = a.rule_id)
      AND (s.institution_code IS NULL OR s.institution_code = a.institution_code)
      AND (s.institution_type IS NULL OR s.institution_type = i.type)
      AND (s.county IS NULL OR s.county = i.county)
      AND (s.severity IS NULL OR s.severity = a.severity))`;
}

/** The silences in force at `at`, by id. */
export async function loadActiveSilences(db: Kysely<Database>, at: Date): Promise<Silence[]> {
  const rows = await db.selectFrom('silences as s').selectAll().where(activeAt(at)).orderBy('id').execute();
  return rows.map(toSilence);
}

/** Stores a validated silence. */
export async function insertSilence(
  db: Kysely<Database>,
  s: Omit<Silence, 'id' | 'createdAt' | 'expiredAt' | 'expiredBy'>,
  now: Date,
): Promise<Silence> {
  const row = await db
    .insertInto('silences')
    .values({
      rule_id: s.ruleId,
      institution_code: s.institution,
      institution_type: s.institutionType,
      county: s.county,
      severity: s.severity,
      starts_at: s.startsAt,
      ends_at: s.endsAt,
      created_by: s.createdBy,
      reason: s.reason,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSilence(row);
}

export async function findSilence(db: Kysely<Database>, id: number): Promise<Silence | undefined> {
  const row = await db.selectFrom('silences').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toSilence(row) : undefined;
}

/** Silences, newest first; with `state`, only those in that state at `at`. */
export async function listSilences(
  db: Kysely<Database>,
  filter: {
    readonly state?: SilenceState | undefined;
    readonly at: Date;
    readonly limit?: number | undefined;
  },
): Promise<Silence[]> {
  const { at } = filter;
  let q = db.selectFrom('silences as s').selectAll();
  if (filter.state === 'active') q = q.where(activeAt(at));
  if (filter.state === 'pending')
    q = q.where(
      sql<boolean>`s.starts_at > ${at} AND s.ends_at > ${at} AND (s.expired_at IS NULL OR s.expired_at > ${at})`,
    );
  if (filter.state === 'expired') q = q.where(sql<boolean>`(s.ends_at <= ${at} OR s.expired_at <= ${at})`);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 500)
    .execute();
  return rows.map(toSilence);
}

/**
 * Ends a silence now, recording who did it; the row stays, so the history can still name it.
 * @returns the silence as it now is, or `undefined` when it was already over at `at`.
 */
export async function expireSilence(
  db: Kysely<Database>,
  id: number,
  by: string,
  at: Date,
): Promise<Silence | undefined> {
  const row = await db
    .updateTable('silences')
    .set({ expired_at: at, expired_by: by })
    .where('id', '=', id)
    .where('ends_at', '>', at)
    .where('expired_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  return row ? toSilence(row) : undefined;
}

/** How many silences are in each state at `at`, every state present. */
export async function countSilences(db: Kysely<Database>, at: Date): Promise<Record<SilenceState, number>> {
  const { rows } = await sql<{ state: SilenceState; n: number }>`
    SELECT CASE
      WHEN s.ends_at <= ${at} OR s.expired_at <= ${at} THEN 'expired'
      WHEN s.starts_at > ${at} THEN 'pending'
      ELSE 'active' END AS state, count(*)::int AS n
    FROM silences s GROUP BY 1`.execute(db);
  const counts = Object.fromEntries(SILENCE_STATES.map((state) => [state, 0])) as Record<
    SilenceState,
    number
  >;
  for (const r of rows) counts[r.state] = Number(r.n);
  return counts;
}
