import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlotClaimCoordinator } from '../../../src/scheduler/slot-claim.coordinator.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe(SlotClaimCoordinator.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.close());

  it('lets exactly one of several replicas run each slot', async () => {
    const replicas = ['a', 'b', 'c'].map((w) => new SlotClaimCoordinator(t.db, w));
    for (const slot of [
      'evaluate:2024-07-01T02:00',
      'evaluate:2024-07-01T02:15',
      'dispatch:2024-07-01T02:15',
    ]) {
      const decisions = await Promise.all(replicas.map((r) => r.shouldRun(slot)));
      expect(decisions.filter(Boolean)).toHaveLength(1);
    }
    expect(await replicas[0]?.shouldRun('evaluate:2024-07-01T02:00')).toBe(false);
  });

  it('prunes old claims', async () => {
    const c = new SlotClaimCoordinator(t.db, 'a');
    await c.shouldRun('old-slot');
    await c.prune(new Date(Date.now() + 1000));
    expect(await c.shouldRun('old-slot')).toBe(true);
  });
});
