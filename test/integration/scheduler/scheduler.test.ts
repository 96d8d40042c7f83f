import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type JobDefinition, Scheduler } from '../../../src/scheduler/scheduler.js';
import { SlotClaimCoordinator } from '../../../src/scheduler/slot-claim.coordinator.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const logger = pino({ level: 'silent' });
const TZ = 'Asia/Shanghai';

describe(Scheduler.name, () => {
  let t: TestDatabase;
  const running: Scheduler[] = [];
  const scheduler = (jobs: JobDefinition[], coordinator: SlotClaimCoordinator) => {
    const s = new Scheduler(jobs, { timeZone: TZ, coordinator, logger });
    running.push(s);
    return s;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(running.map((s) => s.stop()));
    await t.close();
  });
  beforeEach(async () => t.truncate());

  it('runs each slot once across two replicas sharing the database', async () => {
    const runs = new Map<string, string[]>();
    const replica = (worker: string) =>
      scheduler(
        [
          {
            name: 'tick',
            cron: '* * * * * *',
            run: async (now) => {
              const slot = now.toISOString();
              runs.set(slot, [...(runs.get(slot) ?? []), worker]);
            },
          },
        ],
        new SlotClaimCoordinator(t.db, worker),
      );
    const a = replica('replica-a');
    const b = replica('replica-b');
    a.start();
    b.start();
    await sleep(3500);
    await Promise.all([a.stop(), b.stop()]);

    expect(runs.size).toBeGreaterThanOrEqual(2);
    for (const [slot, workers] of runs) {
      expect(workers, slot).toHaveLength(1);
      expect(new Date(slot).getMilliseconds(), slot).toBe(0);
    }
    const claims = await t.db.selectFrom('job_runs').select(['slot', 'claimed_by']).execute();
    expect(claims.map((c) => c.slot).sort()).toEqual([...runs.keys()].map((s) => `tick:${s}`).sort());
    for (const c of claims) expect(runs.get(c.slot.slice('tick:'.length))).toEqual([c.claimed_by]);
  });

  it('lets stop() wait for a job under way', async () => {
    let started!: () => void;
    const startedOnce = new Promise<void>((resolve) => {
      started = resolve;
    });
    let finished = 0;
    const s = scheduler(
      [
        {
          name: 'slow',
          cron: '* * * * * *',
          run: async () => {
            started();
            await sleep(300);
            finished++;
          },
        },
      ],
      new SlotClaimCoordinator(t.db, 'slow-worker'),
    );
    s.start();
    await startedOnce;
    await s.stop();
    expect(finished).toBe(1);
    await sleep(1200);
    expect(finished).toBe(1);
  });

  it('starts no job once stop() has resolved, even when stopped while a slot is being claimed', async () => {
    let claiming!: () => void;
    const claimingOnce = new Promise<void>((resolve) => {
      claiming = resolve;
    });
    /** A coordinator whose database answers slowly, so that stop() lands during the claim. */
    class SlowCoordinator extends SlotClaimCoordinator {
      override async shouldRun(key: string): Promise<boolean> {
        claiming();
        await sleep(300);
        return super.shouldRun(key);
      }
    }
    const events: string[] = [];
    const s = scheduler(
      [
        {
          name: 'claimed',
          cron: '* * * * * *',
          run: async () => {
            events.push('job started');
            await sleep(100);
            events.push('job finished');
          },
        },
      ],
      new SlowCoordinator(t.db, 'slow-claims'),
    );
    s.start();
    await claimingOnce;
    await s.stop();
    events.push('stopped');
    await sleep(1000);
    // Either the claimed slot ran before stop() resolved, or it did not run at all.
    expect(events.slice(events.indexOf('stopped'))).toEqual(['stopped']);
  });

  it('refuses invalid cron expressions at construction, naming the jobs', () => {
    const coordinator = new SlotClaimCoordinator(t.db, 'x');
    const run = async () => undefined;
    expect(
      () =>
        new Scheduler(
          [
            { name: 'evaluate', cron: '*/15 * * * *', run },
            { name: 'dispatch', cron: 'every ten seconds', run },
            { name: 'prune', cron: '61 * * * *', run },
          ],
          { timeZone: TZ, coordinator, logger },
        ),
    ).toThrow(/Invalid cron expressions: dispatch: "every ten seconds", prune: "61 \* \* \* \*"/);
  });
});
