import { type Kysely, sql } from 'kysely';

/**
 * Takes transaction-scoped advisory locks on named keys in one statement. Locks are taken in the
 * order of their numeric ids, the same order in every transaction, so two transactions locking
 * overlapping sets wait for each other instead of deadlocking.
 */
export async function lockKeys<DB>(trx: Kysely<DB>, keys: readonly string[]): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return;
  await sql`SELECT count(pg_advisory_xact_lock(id)) FROM (
      SELECT DISTINCT hashtext(k) AS id FROM unnest(${unique}::text[]) AS k ORDER BY id
    ) AS ordered`.execute(trx);
}
