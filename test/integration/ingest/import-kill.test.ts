import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BulkSpec,
  bulkInstitutionCodes,
  bulkStoredObservations,
  seedBulkInstitutions,
  writeBulkCsv,
  writeBulkRulesDir,
} from '../../../bench/lib/bulk-data.js';
import type { Catalog } from '../../../src/catalog/catalog.js';
import { lockInstitutions } from '../../../src/db/advisory-locks.js';
import { openDatabase } from '../../../src/db/database.js';
import { migrateToLatest } from '../../../src/db/migrator.js';
import type { Database } from '../../../src/db/schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * A CLI import killed with SIGKILL inside its write transaction leaves nothing behind: no upload, no
 * submission, no observation, no lock; the same file imported again is stored whole. The CLI runs in a
 * child process of its own (`node --import tsx src/main.ts import <file>`), as an operator runs it:
 * - on PostgreSQL (TEST_DATABASE_URL) in this file's own schema, passed to the child as
 *   `options=-c search_path=…` in DATABASE_URL, and killed once its backend has written uncommitted
 *   observation rows to disk (it holds a transaction id and `observations` has grown, per
 *   pg_stat_activity and pg_relation_size);
 * - otherwise on the embedded database in a temporary DATA_DIR, killed at the first write to the WAL
 *   (the import writes nothing before its transaction, and this transaction is larger than PGlite's
 *   WAL buffers, so its WAL reaches the disk before the commit), then reopened.
 */

const PG_URL = process.env.TEST_DATABASE_URL;
/** Large enough that the import takes seconds: 100,000 rows on PostgreSQL, 20,000 on PGlite. */
const SPEC: BulkSpec = PG_URL ? { institutions: 5000, metrics: 20 } : { institutions: 1000, metrics: 20 };
const WRITTEN = ['uploads', 'submissions', 'observations', 'alerts', 'alert_events', 'audit_log'] as const;

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code, or the signal's name. */
  readonly exited: Promise<number | string>;
}

const children: ChildProcess[] = [];
let dir: string;
let rulesDir: string;
let file: string;
let catalog: Catalog;

/** `riskwatch import <file>` in its own process group, with only the given environment. */
function startImport(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'import', file], {
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      RULES_DIR: rulesDir,
      LOG_LEVEL: 'warn',
      SCHEDULER: 'off',
      MAX_UPLOAD_BYTES: String(2 ** 30),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, output: () => output, exited };
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
  every = 10,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`gave up after ${ms} ms waiting for ${what}`);
}

async function counts(db: Kysely<Database>): Promise<Record<(typeof WRITTEN)[number], number>> {
  const entries = await Promise.all(
    WRITTEN.map(async (t) => {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(t)}`.execute(db);
      return [t, rows[0]?.n ?? -1] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<(typeof WRITTEN)[number], number>;
}

const NOTHING = Object.fromEntries(WRITTEN.map((t) => [t, 0]));

/** What a complete import of the file leaves: one upload, a submission per institution, every row. */
async function expectComplete(db: Kysely<Database>): Promise<void> {
  const c = await counts(db);
  expect(c.uploads).toBe(1);
  expect(c.submissions).toBe(SPEC.institutions);
  expect(c.observations).toBe(bulkStoredObservations(SPEC, catalog));
  expect(c.audit_log).toBe(1);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-import-kill-'));
  rulesDir = path.join(dir, 'rules');
  catalog = writeBulkRulesDir(rulesDir, SPEC.metrics);
  file = path.join(dir, 'bulk.csv');
  writeBulkCsv(file, SPEC);
});

afterEach(() => {
  for (const c of children.splice(0)) killGroup(c);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.runIf(PG_URL)('an import killed inside its transaction, on PostgreSQL', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  let schema: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { rows } = await sql<{ s: string }>`SELECT current_schema() AS s`.execute(database.db);
    schema = rows[0]?.s as string;
    await seedBulkInstitutions(database.db, catalog, SPEC.institutions);
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await database?.close();
  });

  it('leaves no upload, submission, observation or lock, and the same file then imports whole', async () => {
    const applicationName = `riskwatch-kill-${schema}`;
    const url = new URL(PG_URL as string);
    url.searchParams.set('options', `-c search_path=${schema}`);
    url.searchParams.set('application_name', applicationName);
    const env = { DATABASE_URL: url.toString(), DATA_DIR: path.join(dir, 'data') };
    const backends = async () =>
      (
        await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
          applicationName,
        ])
      ).rows.map((r) => r.pid);

    const killed = startImport(env);
    let ended: number | string | undefined;
    void killed.exited.then((code) => {
      ended = code;
    });
    // Inside the write transaction: the backend has a transaction id (it has written) and the
    // observations table has grown on disk, with rows no other session can see yet.
    const backend = await waitFor(
      async () => {
        if (ended !== undefined)
          throw new Error(`the import ended (${ended}) before it was seen writing:\n${killed.output()}`);
        const { rows } = await admin.query<{ pid: number; bytes: string }>(
          `SELECT a.pid, pg_relation_size(format('%I.observations', $2::text)::regclass) AS bytes
           FROM pg_stat_activity a WHERE a.application_name = $1 AND a.backend_xid IS NOT NULL`,
          [applicationName, schema],
        );
        return rows.find((r) => Number(r.bytes) > 0)?.pid;
      },
      25_000,
      'the import to write observations',
    );
    killGroup(killed.child);
    expect(await killed.exited).toBe('SIGKILL');
    expect(killed.output()).not.toContain('upload_id');

    // The server notices the lost client and rolls its transaction back.
    await waitFor(
      async () => ((await backends()).length === 0 ? true : undefined),
      15_000,
      'the backends to end',
      50,
    );
    expect(await counts(database.db)).toEqual(NOTHING);
    const { rows: held } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = $1`,
      [backend],
    );
    expect(held[0]?.n).toBe(0);
    // The locks an upload of these institutions takes are free (waiting briefly in case another test
    // file holds the shared bulk lock).
    await database.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL lock_timeout = '5s'`.execute(trx);
      await lockInstitutions(trx, bulkInstitutionCodes(SPEC.institutions));
    });

    const again = startImport(env);
    expect(await again.exited, again.output().slice(-2000)).toBe(0);
    await expectComplete(database.db);
  }, 90_000);
});

describe.skipIf(PG_URL)('an import killed inside its transaction, on the embedded database', () => {
  let dataDir: string;
  const open = () => openDatabase({ pgliteDir: path.join(dataDir, 'pg') });

  beforeAll(async () => {
    dataDir = path.join(dir, 'data');
    const handle = await open();
    try {
      await migrateToLatest(handle.db as unknown as Kysely<unknown>);
      await seedBulkInstitutions(handle.db, catalog, SPEC.institutions);
    } finally {
      await handle.close();
    }
  });

  it('reopens holding no upload, submission or observation, and the same file then imports whole', async () => {
    const walDir = path.join(dataDir, 'pg', 'pg_wal');
    const wal = () =>
      JSON.stringify(
        fs
          .readdirSync(walDir)
          .filter((f) => /^[0-9A-F]{24}$/.test(f))
          .map((f) => {
            const s = fs.statSync(path.join(walDir, f));
            return [f, s.size, s.mtimeMs];
          }),
      );
    const before = wal();
    const env = { DATA_DIR: dataDir };

    const killed = startImport(env);
    let ended: number | string | undefined;
    void killed.exited.then((code) => {
      ended = code;
    });
    await waitFor(
      () => {
        if (ended !== undefined)
          throw new Error(`the import ended (${ended}) before it was seen writing:\n${killed.output()}`);
        return wal() !== before ? true : undefined;
      },
      25_000,
      'the import to write to the WAL',
    );
    killGroup(killed.child);
    expect(await killed.exited).toBe('SIGKILL');
    // Killed before its receipt: had it committed, the receipt would follow at once.
    expect(killed.output()).not.toContain('upload_id');

    // The data directory opens (the dead process's lock is taken over, PGlite recovers from its WAL)
    // and holds nothing of the killed import.
    const reopened = await open();
    try {
      expect(await counts(reopened.db)).toEqual(NOTHING);
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`.execute(reopened.db);
      expect(rows[0]?.n).toBe(0);
    } finally {
      await reopened.close();
    }

    const again = startImport(env);
    expect(await again.exited, again.output().slice(-2000)).toBe(0);
    const after = await open();
    try {
      await expectComplete(after.db);
    } finally {
      await after.close();
    }
  }, 90_000);
});
