import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { dispatchDue } from './dispatcher.js';
import type { createMailer } from './mail.transport.js';

type Mailer = ReturnType<typeof createMailer>;

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
        await dispatchDue({
          db: this.deps.db,
          mailer: this.deps.mailer,
          now: this.deps.clock(),
          options: this.deps.options,
          observer: { onResult: (route, outcome, reason) => this.deps.onResult?.(route, outcome, reason) },
        });
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
