import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { dispatchDue } from './dispatcher.js';
import type { createMailer } from './mail.transport.js';

type Mailer = ReturnType<typeof createMailer>;

const BATCH = 20;

/**
 * Runs the outbox dispatcher on demand and on schedule, one pass at a time in this process.
 * A kick during a pass asks for one more pass afterwards, so a notification written meanwhile is
 * not left for the next tick.
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
      onResult?: (route: string, outcome: 'sent' | 'retry' | 'failed', reason?: string) => void;
    },
  ) {}

  /** Starts a pass now (or right after the current one); resolves when the passes finish. */
  kick(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        const result = await dispatchDue({
          db: this.deps.db,
          mailer: this.deps.mailer,
          now: this.deps.clock(),
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
