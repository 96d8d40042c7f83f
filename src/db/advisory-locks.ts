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

/** Above this many institutions, one transaction takes a single exclusive lock instead of one per institution. */
export const MAX_INSTITUTION_LOCKS = 500;

/**
 * Locks institutions for writing their submissions and alerts. Every such transaction first takes the
 * "bulk" lock: shared when it locks institutions one by one, exclusive when it names more than
 * `limit` of them, since PostgreSQL's lock table holds only so many locks per transaction (an upload
 * naming thousands of institutions would fail with "out of shared memory"). Ordinary uploads run
 * side by side; a bulk upload runs alone. Re-locking in the same transaction is free.
 */
/**
 * The bulk lock: shared by every writer of a few institutions, exclusive for one that writes or judges
 * them all (a bulk import, the scheduled evaluation), which then runs alone.
 */
export async function lockBulk<DB>(trx: Kysely<DB>, mode: 'shared' | 'exclusive'): Promise<void> {
  if (mode === 'exclusive') await sql`SELECT pg_advisory_xact_lock(hashtext('riskwatch:bulk'))`.execute(trx);
  else await sql`SELECT pg_advisory_xact_lock_shared(hashtext('riskwatch:bulk'))`.execute(trx);
}

export async function lockInstitutions<DB>(
  trx: Kysely<DB>,
  codes: readonly string[],
  limit = MAX_INSTITUTION_LOCKS,
): Promise<void> {
  const unique = [...new Set(codes)];
  if (unique.length === 0) return;
  if (unique.length > limit) {
    await lockBulk(trx, 'exclusive');
    return;
  }
  await lockBulk(trx, 'shared');
  await lockKeys(
    trx,
    unique.map((code) => `institution:${code}`),
  );
}
