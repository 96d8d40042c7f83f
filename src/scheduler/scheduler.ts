import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { SlotClaimCoordinator } from './slot-claim.coordinator.js';

/** One recurring job: a cron expression in the regulator's time zone and what to run. */
export interface JobDefinition {
  readonly name: string;
  readonly cron: string;
  readonly run: (now: Date) => Promise<unknown>;
}

/**
 * Runs jobs on their schedules; the only module that touches node-cron. Each slot runs once across
 * replicas (the coordinator claims it in PostgreSQL) and never overlaps itself.
 */
export class Scheduler {
  #tasks: ScheduledTask[] = [];
  /**
   * Slots from their claim to the end of their run (node-cron calls `onComplete` after it), so that
   * stop() waits for a claim under way as well as for a job running.
   */
  #inFlight = new Map<string, { done: Promise<void>; release: () => void }>();
  #stopping = false;

  constructor(
    private readonly jobs: readonly JobDefinition[],
    private readonly options: { timeZone: string; coordinator: SlotClaimCoordinator; logger: Logger },
  ) {
    const bad = jobs.filter((j) => !cron.validate(j.cron)).map((j) => `${j.name}: "${j.cron}"`);
    if (bad.length > 0) throw new Error(`Invalid cron expressions: ${bad.join(', ')}`);
  }

  start(): void {
    this.#stopping = false;
    const runCoordinator: RunCoordinator = {
      shouldRun: async (key) => {
        if (this.#stopping) return false;
        const release = this.#track(key);
        try {
          const claimed = await this.options.coordinator.shouldRun(key);
          if (!claimed) release();
          return claimed;
        } catch (error) {
          release();
          throw error;
        }
      },
      // Called by node-cron after a claimed slot's run, whatever its outcome.
      onComplete: async (key) => {
        try {
          this.options.logger.debug({ slot: key }, 'job slot ran');
          await this.options.coordinator.finish(key, new Date());
        } catch (error) {
          this.options.logger.warn({ err: error, slot: key }, 'could not record the end of a job slot');
        } finally {
          this.#inFlight.get(key)?.release();
        }
      },
    };
    for (const job of this.jobs) {
      const task = cron.schedule(
        job.cron,
        async (context) => {
          await job
            .run(context.date)
            .catch((error: unknown) =>
              this.options.logger.error({ err: error, job: job.name }, 'job failed'),
            );
        },
        {
          name: job.name,
          timezone: this.options.timeZone,
          noOverlap: true,
          distributed: true,
          runCoordinator,
          suppressMissedWarning: true,
        },
      );
      this.#tasks.push(task);
    }
  }

  /** Stops scheduling and waits for the jobs under way, so no run is cut in half. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#tasks.map((t) => t.destroy()));
    this.#tasks = [];
    await Promise.allSettled([...this.#inFlight.values()].map((slot) => slot.done));
  }

  /** Records a slot as under way until the returned function (or onComplete) releases it. */
  #track(key: string): () => void {
    let resolve!: () => void;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const release = () => {
      this.#inFlight.delete(key);
      resolve();
    };
    this.#inFlight.set(key, { done, release });
    return release;
  }
}
