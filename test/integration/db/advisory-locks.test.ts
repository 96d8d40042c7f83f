import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockInstitutions } from '../../../src/db/advisory-locks.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe(lockInstitutions.name, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.close());

  const advisoryLocksHeld = async (trx: typeof t.db) => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`.execute(trx);
    return Number(rows[0]?.n);
  };

  it('takes one lock per institution plus a shared bulk lock, and re-locking adds none', async () => {
    const held = await t.db.transaction().execute(async (trx) => {
      await lockInstitutions(
        trx,
        Array.from({ length: 10 }, (_, i) => `C${i}`),
      );
      await lockInstitutions(trx, ['C1', 'C2']);
      return advisoryLocksHeld(trx);
    });
    expect(held).toBe(11);
  });

  it('takes a single exclusive lock for an upload naming more institutions than the lock table allows', async () => {
    const held = await t.db.transaction().execute(async (trx) => {
      await lockInstitutions(
        trx,
        Array.from({ length: 5000 }, (_, i) => `B${i}`),
        500,
      );
      await lockInstitutions(
        trx,
        Array.from({ length: 5000 }, (_, i) => `B${i}`),
        500,
      );
      const { rows } = await sql<{ n: number; mode: string }>`
        SELECT count(*) AS n, min(mode) AS mode FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`.execute(
        trx,
      );
      return rows[0];
    });
    expect(held).toEqual({ n: 1, mode: 'ExclusiveLock' });
  });

  it('makes an ordinary writer wait while a bulk writer holds its lock', async () => {
    const order: string[] = [];
    let releaseBulk: () => void = () => {};
    const bulkHolding = new Promise<void>((resolve) => {
      releaseBulk = resolve;
    });
    let bulkLocked: () => void = () => {};
    const locked = new Promise<void>((resolve) => {
      bulkLocked = resolve;
    });
    const bulk = t.db.transaction().execute(async (trx) => {
      await lockInstitutions(trx, ['A', 'B', 'C'], 2);
      bulkLocked();
      await bulkHolding;
      order.push('bulk done');
    });
    await locked;
    const ordinary = t.db.transaction().execute(async (trx) => {
      await lockInstitutions(trx, ['A']);
      order.push('ordinary locked');
    });
    await new Promise((r) => setTimeout(r, 200));
    releaseBulk();
    await Promise.all([bulk, ordinary]);
    expect(order).toEqual(['bulk done', 'ordinary locked']);
  });
});
