import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.close());

  it('create every table and read numbers back as numbers', async () => {
    await t.db
      .insertInto('institutions')
      .values({ code: 'B1', name: '测试银行', type: 'village_bank', county: '鲤城区' })
      .execute();
    const result = await sql<{
      n: number;
      v: number;
    }>`SELECT count(*) AS n, 6.25::numeric AS v FROM institutions`.execute(t.db);
    expect(result.rows[0]).toEqual({ n: 1, v: 6.25 });
  });
});
