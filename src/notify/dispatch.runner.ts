import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { flushDueGroups } from './digest.flush.js';
import { type DispatchReason, dispatchDue } from './dispatcher.js';
import type { createMailer } from './mail.transport.js';

type Mailer = ReturnType<typeof createMailer>;

const BATCH = 20;

/**
 * Runs the notification pipeline on demand and on schedule, one pass at a time in this process: a pass
 * first turns route groups whose `group_wait` has passed into digests, then sends what is due in the
 * outbox. A kick during a pass asks for one more pass afterwards, so a notification written meanwhile
 * is not left for the next tick. Every step is safe to run on several replicas at once.
 */
export class DispatchRunner {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      mailer: Mailer;
      logger: Logger;
      clock: () => Date;
      options: { publicUrl: string; timeZone: string; worker: string };
      onResult?: (route: string, outcome: 'sent' | 'retry' | 'failed', reason?: DispatchReason) => void;
    },
  ) {}

  #at: Date | undefined;

  /**
   * Starts a pass now (or right after the current one); resolves when the passes finish.
   * @param at the time the pass acts at instead of the clock's (tests and the CLI flush ahead of time).
   */
  kick(at?: Date): Promise<void> {
    if (at) this.#at = at;
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      this.#at = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      // A kick's time holds for the passes it started: a full batch's next pass sends the rest of what
      // it made due.
      const now = this.#at ?? this.deps.clock();
      try {
        await flushDueGroups(this.deps.db, now);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'notification grouping failed');
      }
      try {
        const result = await dispatchDue({
          db: this.deps.db,
          mailer: this.deps.mailer,
          now,
          options: { ...this.deps.options, limit: BATCH },
          observer: { onResult: (route, outcome, reason) => this.deps.onResult?.(route, outcome, reason) },
        });
        // A full batch means more may be due: go on rather than leave a backlog for the next tick.
        if (result.sent + result.retried + result.failed >= BATCH) this.#again = true;
      } catch (error) {
        this.deps.logger.error({ err: error }, 'notification dispatch failed');
      }
    } while (this.#again);
  }

  /** Waits for a pass under way. */
  async idle(): Promise<void> {
    await this.#running;
  }
}
