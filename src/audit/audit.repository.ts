import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** One audited write: who did what to which target. Secrets never go into `details`. */
export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly target?: string | null;
  readonly details?: Record<string, unknown>;
}

/** Appends an entry to the audit log; pass the transaction of the write it records. */
export async function recordAudit(db: Kysely<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}
