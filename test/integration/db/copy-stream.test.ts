import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyChunks, startCopy } from '../../../src/db/copy-stream.js';
import { transactionClient, withTransactionClient } from '../../../src/db/transaction-client.js';
import { countRows, createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A COPY runs on the transaction's own connection while the process computes: whatever fails — the
 * server refusing a row, the producer throwing, the caller abandoning it — the transaction rolls back
 * whole and its connection goes on serving statements. PostgreSQL only (PGlite has no COPY FROM STDIN).
 */
describe.skipIf(!process.env.TEST_DATABASE_URL)(startCopy.name, () => {
  let t: TestDatabase;
  let submission: number;
  const COPY =
    'COPY observations (submission_id, institution_code, period, metric, value, derived) FROM STDIN';

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.close());
  beforeEach(async () => {
    await t.truncate();
    await t.db
      .insertInto('institutions')
      .values({ code: 'B1', name: '一号银行', type: 'village_bank', county: '鲤城区' })
      .execute();
    const upload = await t.db
      .insertInto('uploads')
      .values({ file_name: 'x.csv', file_sha256: 'x', format: 'csv-long', row_count: 1, uploaded_by: 'test' })
      .returning('id')
      .executeTakeFirstOrThrow();
    submission = (
      await t.db
        .insertInto('submissions')
        .values({ upload_id: upload.id, institution_code: 'B1', period: '2024-06', version: 1 })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });

  /** 40,000 valid lines (about 1.6 MB), then `tail`, then `failure` thrown if given. */
  function* lines(tail: readonly string[] = [], failure?: Error): Generator<string> {
    for (let i = 0; i < 40_000; i++) yield `${submission}\tB1\t2024-06\tm${i}\t${i / 100}\tf\n`;
    yield* tail;
    if (failure) throw failure;
  }

  /** Runs `work` in a transaction with its pg client; resolves with its outcome and whether the connection still answers. */
  const inTransaction = async (
    work: (client: NonNullable<ReturnType<typeof transactionClient>>) => Promise<void>,
  ) => {
    const outcome = await withTransactionClient(() =>
      t.db.transaction().execute(async (trx) => {
        await trx.insertInto('audit_log').values({ actor: 't', action: 'copy', details: '{}' }).execute();
        const client = transactionClient();
        if (!client) throw new Error('no transaction client');
        await work(client);
      }),
    ).then(
      () => 'committed',
      (error: Error) => `rolled back: ${error.message}`,
    );
    return {
      outcome,
      observations: await countRows(t.db, 'observations'),
      audit: await countRows(t.db, 'audit_log'),
    };
  };

  it('stores every row, and the process may compute while the server stores them', async () => {
    const result = await inTransaction(async (client) => {
      const copy = startCopy(client, COPY, copyChunks(lines()));
      await copy.flowing;
      const busyUntil = performance.now() + 50;
      while (performance.now() < busyUntil); // the server reads from the socket meanwhile
      await copy.done;
    });
    expect(result).toEqual({ outcome: 'committed', observations: 40_000, audit: 1 });
  });

  it('rolls back when the server refuses a row', async () => {
    const result = await inTransaction(async (client) => {
      await startCopy(client, COPY, copyChunks(lines([`${submission}\tB1\t2024-06\tbad\tnot-a-number\tf\n`])))
        .done;
    });
    expect(result.outcome).toMatch(/^rolled back: .*invalid input syntax for type numeric/);
    expect(result).toMatchObject({ observations: 0, audit: 0 });
  });

  it('rolls back when the statement-level check refuses a row at the end', async () => {
    const result = await inTransaction(async (client) => {
      await startCopy(client, COPY, copyChunks(lines([`${submission + 1000}\tB1\t2024-06\tm\t1\tf\n`]))).done;
    });
    expect(result.outcome).toMatch(/^rolled back: .*does not exist or is not theirs/);
    expect(result).toMatchObject({ observations: 0, audit: 0 });
  });

  it('rolls back when the producer throws half-way', async () => {
    const result = await inTransaction(async (client) => {
      await startCopy(client, COPY, copyChunks(lines([], new Error('producer failed')))).done;
    });
    expect(result).toEqual({ outcome: 'rolled back: producer failed', observations: 0, audit: 0 });
  });

  it('rolls back when the caller abandons it, before or after every row was sent', async () => {
    for (const when of ['at once', 'once flowing', 'once done'] as const) {
      const result = await inTransaction(async (client) => {
        const copy = startCopy(client, COPY, copyChunks(lines()));
        if (when !== 'at once') await copy.flowing;
        if (when === 'once done') await copy.done;
        await copy.abort(new Error(`evaluation failed ${when}`));
        throw new Error(`evaluation failed ${when}`);
      });
      expect(result).toEqual({
        outcome: `rolled back: evaluation failed ${when}`,
        observations: 0,
        audit: 0,
      });
    }
  });
});
