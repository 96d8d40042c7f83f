import { type Kysely, sql } from 'kysely';
import type { Severity } from '../alerts/alert.types.js';
import type { AlertRow, AlertTable, Database } from '../db/schema.js';

/**
 * The column that records an acknowledgement, once the schema has one: `never` until the alert
 * lifecycle migration adds `alerts.acknowledged_at`, then `'acknowledged_at'`. Typed from the schema so
 * that the wiring cannot name a column the database lacks.
 */
export type AcknowledgedColumn = Extract<keyof AlertTable, 'acknowledged_at'>;

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
}

/** Finds the alerts a reminder lists; injected into the reminder job so it tests without the lifecycle schema. */
export type ReminderSelector = (criteria: ReminderCriteria) => Promise<ReminderCandidate[]>;

/**
 * The selector of firing alerts of the given severities, fired before `firedBefore`, and — when
 * `acknowledged` names the acknowledgement column — not acknowledged. Oldest first.
 */
export function firingAlertsSelector(
  db: Kysely<Database>,
  acknowledged: AcknowledgedColumn | undefined,
): ReminderSelector {
  return async ({ severities, firedBefore }) => {
    if (severities.length === 0) return [];
    let q = db
      .selectFrom('alerts as a')
      .leftJoin('institutions as i', 'i.code', 'a.institution_code')
      .selectAll('a')
      .select(['i.name as i_name', 'i.type as i_type', 'i.county as i_county'])
      .where('a.state', '=', 'firing')
      .where('a.severity', 'in', [...severities])
      .where('a.fired_at', '<', firedBefore);
    if (acknowledged) q = q.where(sql.ref(`a.${acknowledged}`), 'is', null);
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
