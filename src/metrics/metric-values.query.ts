import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** The latest current value of each institution × metric, with the labels metrics need. */
export interface CurrentValue {
  readonly institution: string;
  readonly type: string;
  readonly county: string;
  readonly metric: string;
  readonly period: string;
  readonly value: number;
}

/**
 * Reads the latest period's value per institution and metric from current submission versions.
 * Periods of one metric share a frequency, so their text sorts chronologically.
 */
export async function currentValues(db: Kysely<Database>): Promise<CurrentValue[]> {
  const rows = await db
    .selectFrom('observations as o')
    .innerJoin('submissions as s', 's.id', 'o.submission_id')
    .innerJoin('institutions as i', 'i.code', 'o.institution_code')
    .distinctOn(['o.institution_code', 'o.metric'])
    .select(['o.institution_code', 'i.type', 'i.county', 'o.metric', 'o.period', 'o.value'])
    .where('s.is_current', '=', true)
    .orderBy('o.institution_code')
    .orderBy('o.metric')
    .orderBy('o.period', 'desc')
    .execute();
  return rows.map((r) => ({
    institution: r.institution_code,
    type: r.type,
    county: r.county,
    metric: r.metric,
    period: r.period,
    value: r.value,
  }));
}
