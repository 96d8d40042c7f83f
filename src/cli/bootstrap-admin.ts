import { type Kysely, sql } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import { createApiKey, hasActiveAdminKey } from '../auth/api-key.repository.js';
import type { Database } from '../db/schema.js';

/**
 * On a first start without ADMIN_TOKEN, creates an admin key so that a newcomer can use the API at
 * once. Returns the token to show once, or `undefined` when an admin key already exists.
 */
export async function bootstrapAdminKey(db: Kysely<Database>): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    // Two replicas starting together must not both create one.
    await sql`SELECT pg_advisory_xact_lock(hashtext('riskwatch:bootstrap-admin'))`.execute(trx);
    if (await hasActiveAdminKey(trx)) return undefined;
    const { key, token } = await createApiKey(trx, {
      name: 'initial-admin',
      role: 'admin',
      institution: null,
      createdBy: 'bootstrap',
    });
    await recordAudit(trx, {
      actor: 'bootstrap',
      action: 'keys.create',
      target: key.id,
      details: { name: key.name, role: 'admin' },
    });
    return token;
  });
}
