import { type Kysely, sql } from 'kysely';
import type { Severity } from '../alerts/alert.types.js';
import { silencedAlertSql } from '../alerts/silence.repository.js';
import type { AlertRow, Database } from '../db/schema.js';

/** A firing alert a reminder may list, with its institution (null for a regional alert). */
export interface ReminderCandidate {
  readonly alert: AlertRow;
  readonly institution: { code: string; name: string; type: string; county: string } | null;
}

/** Which alerts a reminder is about. */
export interface ReminderCriteria {
  readonly severities: readonly Severity[];
  /** Only alerts firing since before this instant (a reminder never repeats a fresh notification). */
  readonly firedBefore: Date;
  /** The reminder's slot: alerts silenced then are left out. */
  readonly at: Date;
}

/** Finds the alerts a reminder lists; injected into the reminder job, so its schedule tests alone. */
export type ReminderSelector = (criteria: ReminderCriteria) => Promise<ReminderCandidate[]>;

/**
 * The selector of firing alerts of the given severities, fired before `firedBefore`, neither
 * acknowledged (someone is on it) nor silenced at the slot (someone said to keep quiet). Oldest first.
 */
export function firingAlertsSelector(db: Kysely<Database>): ReminderSelector {
  return async ({ severities, firedBefore, at }) => {
    if (severities.length === 0) return [];
    const q = db
      .selectFrom('alerts as a')
      .leftJoin('institutions as i', 'i.code', 'a.institution_code')
      .selectAll('a')
      .select(['i.name as i_name', 'i.type as i_type', 'i.county as i_county'])
      .where('a.state', '=', 'firing')
      .where('a.severity', 'in', [...severities])
      .where('a.fired_at', '<', firedBefore)
      .where('a.acknowledged_at', 'is', null)
      .where(sql<boolean>`NOT ${silencedAlertSql(at)}`);
    const rows = await q.orderBy('a.fired_at').orderBy('a.id').execute();
    return rows.map(({ i_name, i_type, i_county, ...alert }) => ({
      alert,
      institution:
        alert.institution_code && i_name !== null && i_type !== null && i_county !== null
          ? { code: alert.institution_code, name: i_name, type: i_type, county: i_county }
          : null,
    }));
  };
}
