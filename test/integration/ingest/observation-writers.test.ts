import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { transactionClient, withTransactionClient } from '../../../src/db/transaction-client.js';
import type { SubmissionDraft } from '../../../src/ingest/observation.types.js';
import { storeVersions } from '../../../src/ingest/submission.writer.js';
import { shippedCatalog } from '../../support/catalog.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A bulk upload on PostgreSQL writes its observations through one streamed `COPY`; every other upload
 * through `unnest` statements. Both must store the same rows: reported values, values the catalog
 * derives (marked derived), versions and supersessions. Batches of 20,000 rows are crossed.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)('the COPY and unnest observation writers', () => {
  let t: TestDatabase;
  const catalog = shippedCatalog();
  const now = new Date('2024-07-10T02:00:00Z');
  const INSTITUTIONS = 1500;

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.close());
  /** Empties the database and registers the institutions again. */
  const reset = async () => {
    await t.truncate();
    await t.db
      .insertInto('institutions')
      .values(
        Array.from({ length: INSTITUTIONS }, (_, i) => ({
          code: `B${String(i).padStart(5, '0')}`,
          name: `银行${i}`,
          type: 'village_bank',
          county: '鲤城区',
        })),
      )
      .execute();
  };
  beforeEach(reset);

  /**
   * Every institution reports 17 metrics (15 synthetic ones are not in the catalog, which the writer
   * does not check) and two balances from which the NPL ratio is derived; odd ones report it themselves.
   */
  const drafts = (): SubmissionDraft[] =>
    Array.from({ length: INSTITUTIONS }, (_, i) => {
      const metrics = ['npl_balance', 'total_loans', ...Array.from({ length: 15 }, (_, k) => `m${k}`)];
      const numbers = [1.5 + i / 1000, 100 + i, ...Array.from({ length: 15 }, (_, k) => i * 0.01 + k)];
      if (i % 2 === 1) {
        metrics.push('npl_ratio');
        numbers.push(1.25);
      }
      return {
        institution: `B${String(i).padStart(5, '0')}`,
        type: 'village_bank',
        period: '2024-06',
        metrics,
        numbers,
        locations: metrics.map((_, k) => k + 1),
      };
    });

  const write = (copy: boolean) =>
    withTransactionClient(() =>
      t.db.transaction().execute(async (trx) => {
        const upload = await trx
          .insertInto('uploads')
          .values({ file_name: 'x', file_sha256: 'x', format: 'csv-long', row_count: 0, uploaded_by: 'test' })
          .returning('id')
          .executeTakeFirstOrThrow();
        const client = transactionClient();
        if (copy) expect(client).toBeDefined();
        return storeVersions(
          trx,
          upload.id,
          drafts(),
          catalog,
          () => null,
          now,
          undefined,
          copy ? client : undefined,
        );
      }),
    );

  const rows = () =>
    t.db
      .selectFrom('observations as o')
      .innerJoin('submissions as s', 's.id', 'o.submission_id')
      .select([
        'o.institution_code',
        'o.period',
        'o.metric',
        'o.value',
        'o.derived',
        's.version',
        's.is_current',
      ])
      .orderBy('o.institution_code')
      .orderBy('o.metric')
      .orderBy('s.version')
      .execute();

  it('store the same rows, twice over (a second version supersedes the first)', async () => {
    const byUnnest = [await write(false), await write(false)];
    const unnestRows = await rows();
    await reset();
    const byCopy = [await write(true), await write(true)];
    const copyRows = await rows();

    // 1,500 × (17 reported + 1 reported or derived) × 2 versions: over two batches of 20,000 each time.
    expect(copyRows).toHaveLength(INSTITUTIONS * 18 * 2);
    expect(copyRows).toEqual(unnestRows);
    const derived = copyRows.filter((r) => r.derived);
    expect(derived).toHaveLength((INSTITUTIONS / 2) * 2);
    expect(derived.every((r) => r.metric === 'npl_ratio')).toBe(true);
    expect(copyRows.filter((r) => r.is_current)).toHaveLength(INSTITUTIONS * 18);

    const strip = (stored: Awaited<ReturnType<typeof write>>[]) =>
      stored.map((list) => list.map(({ id: _id, ...s }) => s));
    expect(strip(byCopy)).toEqual(strip(byUnnest));
    expect(byCopy[1]?.[0]).toMatchObject({ version: 2, supersedes: 1, reported: 17, derived: ['npl_ratio'] });
    expect(byCopy[1]?.[1]).toMatchObject({ version: 2, supersedes: 1, reported: 18, derived: [] });
  });
});
