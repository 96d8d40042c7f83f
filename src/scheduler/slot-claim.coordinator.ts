import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * node-cron run coordinator backed by PostgreSQL: the first replica to insert a slot's row runs it,
 * every other replica sees the conflict and skips. Unlike an advisory lock, which only prevents
 * overlap, a claimed slot is never run twice, whatever the replicas' clock skew.
 */
export class SlotClaimCoordinator {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly worker: string,
  ) {}

  async shouldRun(key: string): Promise<boolean> {
    const claimed = await this.db
      .insertInto('job_runs')
      .values({ job: 'cron', slot: key, claimed_by: this.worker })
      .onConflict((oc) => oc.columns(['job', 'slot']).doNothing())
      .returning('slot')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  /** Records that this replica's run of a claimed slot ended, so runs can be counted and audited. */
  async finish(key: string, at: Date): Promise<void> {
    await this.db
      .updateTable('job_runs')
      .set({ finished_at: at })
      .where('job', '=', 'cron')
      .where('slot', '=', key)
      .where('claimed_by', '=', this.worker)
      .execute();
  }

  /** Forgets claims older than `before`, so the table stays small. */
  async prune(before: Date): Promise<void> {
    await this.db.deleteFrom('job_runs').where('claimed_at', '<', before).execute();
  }
}
