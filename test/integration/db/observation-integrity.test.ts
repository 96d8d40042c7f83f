import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countRows, createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * The statement-level check that replaced the foreign key from observations to submissions
 * (migrations/2026-11-28T0200_observation_integrity.ts): refused statements change nothing and carry
 * SQLSTATE 23503, on PGlite and PostgreSQL alike.
 */
describe('observations and their submission', () => {
  let t: TestDatabase;
  let submission: number;

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.close());

  beforeEach(async () => {
    await t.truncate();
    await t.db
      .insertInto('institutions')
      .values([
        { code: 'B1', name: '一号银行', type: 'village_bank', county: '鲤城区' },
        { code: 'B2', name: '二号银行', type: 'village_bank', county: '丰泽区' },
      ])
      .execute();
    const upload = await t.db
      .insertInto('uploads')
      .values({ file_name: 'x.csv', file_sha256: 'x', format: 'csv-long', row_count: 1, uploaded_by: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = await t.db
      .insertInto('submissions')
      .values({ upload_id: upload.id, institution_code: 'B1', period: '2024-06', version: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    submission = row.id;
  });

  const observation = (
    over: Partial<{ submission_id: number; institution_code: string; period: string }>,
  ) => ({
    submission_id: submission,
    institution_code: 'B1',
    period: '2024-06',
    metric: 'npl_ratio',
    value: 1.5,
    ...over,
  });

  const refusal = async (work: Promise<unknown>) => {
    const error = (await work.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message?: string } | undefined;
    expect(error, 'the statement should have been refused').toBeDefined();
    return error as { code?: string; message?: string };
  };

  it('accepts observations of an existing submission, one statement of many rows', async () => {
    await t.db
      .insertInto('observations')
      .values([observation({}), { ...observation({}), metric: 'car' }])
      .execute();
    expect(await countRows(t.db, 'observations')).toBe(2);
  });

  it('refuses a statement naming a submission that does not exist, keeping none of its rows', async () => {
    const error = await refusal(
      t.db
        .insertInto('observations')
        .values([observation({}), { ...observation({ submission_id: submission + 99 }), metric: 'car' }])
        .execute(),
    );
    expect(error.code).toBe('23503');
    expect(error.message).toContain(`submission ${submission + 99}`);
    expect(await countRows(t.db, 'observations')).toBe(0);
  });

  it("refuses observations filed under another institution's or another period's submission", async () => {
    for (const wrong of [{ institution_code: 'B2' }, { period: '2024-05' }]) {
      const error = await refusal(t.db.insertInto('observations').values(observation(wrong)).execute());
      expect(error.code).toBe('23503');
    }
    expect(await countRows(t.db, 'observations')).toBe(0);
  });

  it('refuses an update that points observations elsewhere', async () => {
    await t.db.insertInto('observations').values(observation({})).execute();
    const error = await refusal(
      t.db
        .updateTable('observations')
        .set({ submission_id: submission + 1 })
        .execute(),
    );
    expect(error.code).toBe('23503');
    const row = await t.db.selectFrom('observations').select('submission_id').executeTakeFirstOrThrow();
    expect(row.submission_id).toBe(submission);
  });

  it('keeps submissions: deleting or renumbering one is refused, marking it superseded is not', async () => {
    await t.db.insertInto('observations').values(observation({})).execute();
    expect((await refusal(t.db.deleteFrom('submissions').execute())).code).toBe('23503');
    // An identity column refuses a new value itself (428C9); the trigger covers any other path.
    expect(['428C9', '23503']).toContain(
      (await refusal(sql`UPDATE submissions SET id = id + 100`.execute(t.db))).code,
    );
    await t.db.updateTable('submissions').set({ is_current: false }).execute();
    expect(await countRows(t.db, 'submissions')).toBe(1);
  });
});
