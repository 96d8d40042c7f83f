import { type RawBuilder, sql } from 'kysely';

/**
 * `= any($1::text[])`: one parameter whatever the list's length. `IN ($1, $2, …)` takes one parameter
 * per value, and PostgreSQL refuses statements with more than 65,535 of them (a national bulk import).
 */
export function anyOf(values: readonly string[]): RawBuilder<string> {
  return sql<string>`any(${[...values]}::text[])`;
}
