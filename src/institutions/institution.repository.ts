import { type Kysely, sql } from 'kysely';
import { chunks } from '../db/chunks.js';
import type { Database, InstitutionRow } from '../db/schema.js';
import type { Institution, InstitutionInput } from './institution.schema.js';

export function toInstitution(row: InstitutionRow): Institution {
  return {
    code: row.code,
    name: row.name,
    type: row.type,
    county: row.county,
    credit_code: row.credit_code,
    established_on: row.established_on,
    attributes: row.attributes,
    created_at: row.created_at.toISOString(),
  };
}

export interface InstitutionFilter {
  readonly type?: string | undefined;
  readonly county?: string | undefined;
  readonly code?: string | undefined;
}

export async function listInstitutions(
  db: Kysely<Database>,
  filter: InstitutionFilter = {},
): Promise<Institution[]> {
  let q = db.selectFrom('institutions').selectAll().orderBy('code');
  if (filter.type) q = q.where('type', '=', filter.type);
  if (filter.county) q = q.where('county', '=', filter.county);
  if (filter.code) q = q.where('code', '=', filter.code);
  return (await q.execute()).map(toInstitution);
}

export async function findInstitutions(
  db: Kysely<Database>,
  codes: readonly string[],
): Promise<Map<string, Institution>> {
  if (codes.length === 0) return new Map();
  const rows = await db
    .selectFrom('institutions')
    .selectAll()
    .where('code', 'in', [...new Set(codes)])
    .execute();
  return new Map(rows.map((r) => [r.code, toInstitution(r)]));
}

/** Inserts or updates institutions by code; returns how many were new. */
export async function upsertInstitutions(
  db: Kysely<Database>,
  inputs: readonly InstitutionInput[],
): Promise<number> {
  let created = 0;
  // Codes are unique within one call (the service checks), as one INSERT … ON CONFLICT requires.
  for (const part of chunks(inputs, 1000)) {
    const rows = await db
      .insertInto('institutions')
      .values(
        part.map((i) => ({
          code: i.code,
          name: i.name,
          type: i.type,
          county: i.county,
          credit_code: i.credit_code ?? null,
          established_on: i.established_on ?? null,
          attributes: JSON.stringify(i.attributes ?? {}),
        })),
      )
      .onConflict((oc) =>
        oc.column('code').doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          type: eb.ref('excluded.type'),
          county: eb.ref('excluded.county'),
          credit_code: eb.ref('excluded.credit_code'),
          established_on: eb.ref('excluded.established_on'),
          attributes: eb.ref('excluded.attributes'),
          updated_at: new Date(),
        })),
      )
      // xmax is 0 on a freshly inserted row version and set on an updated one.
      .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
      .execute();
    created += rows.filter((r) => r.inserted).length;
  }
  return created;
}
