import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type DatabaseHandle, openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { type Database, TABLES } from '../../src/db/schema.js';
import {
  BULK_PERIOD,
  type BulkSpec,
  bulkObservationCopyCsv,
  bulkStoredObservations,
  seedBulkInstitutions,
  writeBulkCsv,
  writeBulkRulesDir,
} from '../lib/bulk-data.js';
import { type ChildRun, killCurrentChild, runNode } from '../lib/child.js';

/**
 * The bulk import: the real CLI (`node --import tsx src/main.ts import <file>`) in a child process with
 * a 600,000-row long-layout file (30,000 institutions × 20 monthly metrics, one month), against
 * PostgreSQL's COPY of the same rows into the same `observations` table. PostgreSQL only: the CLI runs
 * against a database of its own, `riskwatch_bench_<pid>`, and COPY against `riskwatch_bench_<pid>_copy`;
 * both are dropped at the end.
 */

/** What the import should reach (docs/benchmarks.md). */
export const BULK_GOALS = { rowsPerSecond: 60_000, copyRatio: 3, peakRssBytes: 300e6 } as const;

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BulkOptions {
  /** A PostgreSQL server URL; the benchmark creates its databases there. */
  readonly url: string;
  readonly spec: BulkSpec;
  /** Timed imports and COPYs, alternating. */
  readonly runs: number;
  readonly log: (message: string) => void;
  /** A child import still running after this long is killed and the benchmark fails. */
  readonly timeoutMs?: number;
}

/** One timed import through the CLI. */
export interface BulkImport {
  readonly ms: number;
  readonly peakRssBytes: number | undefined;
  /** Alerts the upload raised (the data is healthy: 0 expected). */
  readonly alerts: number | undefined;
  /** Timing fields the child printed itself, as `message: field=value` lines. */
  readonly childTimings: string[];
}

export interface BulkResult {
  readonly spec: BulkSpec;
  /** Data rows of the CSV. */
  readonly rows: number;
  readonly bytes: number;
  /** Observation rows stored per import (reported and derived): what COPY writes too. */
  readonly stored: number;
  readonly pgVersion: string;
  /** `git describe`-like: the commit and whether src/ differs from it. */
  readonly commit: string;
  /** The same CLI importing one institution's rows: start-up, rules, migrations check, shut-down. */
  readonly fixedCost: BulkImport;
  readonly imports: BulkImport[];
  readonly copyMs: number[];
  /** How the CLI ran: the production build (`npm run build`, plain node) or TypeScript through tsx. */
  readonly cli: 'compiled' | 'tsx';
}

/** Every table the import writes: all but institutions and API keys. */
const WRITTEN_TABLES = TABLES.filter((t) => t !== 'institutions' && t !== 'api_keys');

function commitOf(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'migrations');
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

const TIMING_KEY = /(^|_)(ms|seconds|secs|duration|elapsed)$|Ms$|timings?/i;

/** What the child printed: pino JSON lines (timing fields picked out) and the receipt. */
function readChildOutput(stdout: string): { alerts: number | undefined; timings: string[] } {
  const timings: string[] = [];
  const rest: string[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"level"')) {
      rest.push(line);
      continue;
    }
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const fields = Object.entries(entry).filter(([k]) => TIMING_KEY.test(k));
      if (fields.length > 0)
        timings.push(
          `${String(entry.msg ?? '')}: ${fields.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`,
        );
    } catch {
      rest.push(line);
    }
  }
  let alerts: number | undefined;
  try {
    const receipt = JSON.parse(rest.join('\n')) as Record<string, unknown>;
    if (Array.isArray(receipt.alerts)) alerts = receipt.alerts.length;
    for (const [k, v] of Object.entries(receipt))
      if (TIMING_KEY.test(k)) timings.push(`receipt: ${k}=${JSON.stringify(v)}`);
  } catch {
    // Not a receipt this benchmark understands: report no alert count.
  }
  return { alerts, timings };
}

async function count(db: Kysely<Database>, table: 'observations' | 'submissions'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** CHECKPOINT, so that one run's dirty pages are not written during the next (superuser only). */
async function checkpoint(db: Kysely<Database>): Promise<void> {
  await sql`CHECKPOINT`.execute(db).catch(() => undefined);
}

/** A fresh database on the server at `url`, migrated, with the bulk institutions registered. */
async function createDatabase(
  admin: pg.Client,
  url: string,
  name: string,
  seed: (db: Kysely<Database>) => Promise<void>,
): Promise<{ url: string; handle: DatabaseHandle }> {
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await openDatabase({ databaseUrl: target.toString() });
  await migrateToLatest(handle.db as unknown as Kysely<unknown>);
  await seed(handle.db);
  return { url: target.toString(), handle };
}

const require = createRequire(import.meta.url);

/** Builds the whole project (src, migrations, bench) to JavaScript in `outDir`, as `npm run build` does src. */
function buildProject(outDir: string): string {
  const tsc = path.join(path.dirname(require.resolve('typescript/package.json')), 'bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', 'false', '--outDir', outDir], {
    stdio: 'inherit',
  });
  // Outside the project the build needs the project's packages and its `"type": "module"`.
  fs.symlinkSync(path.resolve('node_modules'), path.join(outDir, 'node_modules'));
  fs.copyFileSync('package.json', path.join(outDir, 'package.json'));
  return outDir;
}

export async function runIngestBulk(options: BulkOptions): Promise<BulkResult> {
  const { spec, log } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-bench-bulk-'));
  const names = [`riskwatch_bench_${process.pid}`, `riskwatch_bench_${process.pid}_copy`];
  // Clients with no listener would crash the process on a server-side error, e.g. when a signal's
  // cleanup drops their database under them.
  const ignore = () => undefined;
  const admin = new pg.Client({ connectionString: options.url });
  admin.on('error', ignore);
  await admin.connect();
  const handles: DatabaseHandle[] = [];
  let copier: pg.Client | undefined;
  const dropAll = async () => {
    killCurrentChild();
    try {
      await copier?.end().catch(() => undefined);
      for (const h of handles) await h.close().catch(() => undefined);
      for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  // Once, however it is reached (the end, an error, a signal); every caller waits for the same cleanup.
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= dropAll();
    return cleaning;
  };
  // Interrupted (Ctrl-C, `timeout`): no child left running, no database left behind.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { rows: pgVersion } = await admin.query<{ v: string }>(
      `SELECT current_setting('server_version') AS v`,
    );
    const catalog = writeBulkRulesDir(path.join(dir, 'rules'), spec.metrics);
    const file = path.join(dir, 'bulk.csv');
    const written = writeBulkCsv(file, spec);
    const one = path.join(dir, 'one.csv');
    writeBulkCsv(one, { ...spec, institutions: 1 });
    const stored = bulkStoredObservations(spec, catalog);
    log(
      `ingest-bulk: ${written.rows} rows (${spec.institutions} institutions × ${spec.metrics} metrics, ` +
        `${(written.bytes / 2 ** 20).toFixed(1)} MiB), ${stored} observations stored per import`,
    );

    const target = await createDatabase(admin, options.url, names[0] as string, (db) =>
      seedBulkInstitutions(db, catalog, spec.institutions),
    );
    handles.push(target.handle);
    const importDb = target.handle.db;

    // The COPY baseline's database: the same schema and institutions, one upload and one current
    // submission per institution, as the import leaves them; COPY writes the observations only.
    const copyTarget = await createDatabase(admin, options.url, names[1] as string, async (db) => {
      await seedBulkInstitutions(db, catalog, spec.institutions);
      await sql`INSERT INTO uploads (file_name, file_sha256, format, row_count, uploaded_by)
        VALUES ('bulk.csv', 'bench', 'csv-long', ${written.rows}, 'bench')`.execute(db);
      await sql`INSERT INTO submissions (upload_id, institution_code, period, version)
        SELECT 1, code, ${BULK_PERIOD}, 1 FROM institutions`.execute(db);
    });
    handles.push(copyTarget.handle);
    const copyDb = copyTarget.handle.db;
    const ids = new Map(
      (await copyDb.selectFrom('submissions').select(['id', 'institution_code']).execute()).map((r) => [
        r.institution_code,
        r.id,
      ]),
    );
    const copyCsv = bulkObservationCopyCsv(spec, catalog, ids);
    if (copyCsv.rows !== stored)
      throw new Error(`COPY has ${copyCsv.rows} rows, the import stores ${stored}`);
    copier = new pg.Client({ connectionString: copyTarget.url });
    copier.on('error', ignore);
    await copier.connect();
    const copyClient = copier;

    // The production build by default (what the image and a scheduled import run); BENCH_CLI=tsx measures
    // `npm run cli`, which transpiles on the fly and costs about 100 MB more.
    const cli = process.env.BENCH_CLI === 'tsx' ? 'tsx' : 'compiled';
    const compiled = cli === 'compiled' ? buildProject(path.join(dir, 'build')) : undefined;
    const env = {
      DATABASE_URL: target.url,
      RULES_DIR: path.join(dir, 'rules'),
      DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'info',
      SCHEDULER: 'off',
      MAX_UPLOAD_BYTES: String(2 ** 31 - 1),
      TZ: 'UTC',
    };
    const resetImport = async () => {
      await sql`TRUNCATE ${sql.join(WRITTEN_TABLES.map((t) => sql.table(t)))} RESTART IDENTITY CASCADE`.execute(
        importDb,
      );
      await checkpoint(importDb);
    };
    const cliImport = async (
      csv: string,
      institutions: number,
      observations: number,
    ): Promise<BulkImport> => {
      await resetImport();
      const run: ChildRun = await runNode(['src/main.ts', 'import', csv], env, {
        timeoutMs: options.timeoutMs ?? 30 * 60_000,
        ...(compiled ? { compiled } : {}),
      });
      if (run.exitCode !== 0)
        throw new Error(
          `the import exited with ${run.exitCode ?? run.signal} after ${(run.ms / 1000).toFixed(1)} s:\n` +
            `${run.stderr.slice(-4000)}${run.stdout.slice(-2000)}`,
        );
      const [submissions, stored] = [
        await count(importDb, 'submissions'),
        await count(importDb, 'observations'),
      ];
      if (submissions !== institutions || stored !== observations)
        throw new Error(
          `the import stored ${submissions} submissions and ${stored} observations, ` +
            `expected ${institutions} and ${observations}`,
        );
      const output = readChildOutput(run.stdout);
      return {
        ms: run.ms,
        peakRssBytes: run.peakRssBytes,
        alerts: output.alerts,
        childTimings: output.timings,
      };
    };
    const copy = async (): Promise<number> => {
      await sql`TRUNCATE observations`.execute(copyDb);
      await checkpoint(copyDb);
      const started = performance.now();
      await pipeline(
        Readable.from(copyCsv.blocks),
        copyClient.query(
          copyFrom(
            'COPY observations (submission_id, institution_code, period, metric, value, derived) FROM STDIN WITH (FORMAT csv)',
          ),
        ),
      );
      const ms = performance.now() - started;
      const copied = await count(copyDb, 'observations');
      if (copied !== stored) throw new Error(`COPY stored ${copied} rows, expected ${stored}`);
      return ms;
    };

    log('ingest-bulk: CLI fixed cost (import of one institution)');
    const fixedCost = await cliImport(one, 1, stored / spec.institutions);
    const imports: BulkImport[] = [];
    const copyMs: number[] = [];
    for (let round = 0; round < options.runs; round++) {
      // Alternating order, so that neither always runs right after the other's writes.
      const steps = [
        async () => {
          log(`ingest-bulk: run ${round + 1}/${options.runs}: CLI import`);
          const run = await cliImport(file, spec.institutions, stored);
          log(
            `ingest-bulk:   ${(run.ms / 1000).toFixed(2)} s, ${Math.round((written.rows * 1000) / run.ms)} rows/s, ` +
              `peak RSS ${run.peakRssBytes === undefined ? '?' : `${Math.round(run.peakRssBytes / 1e6)} MB`}`,
          );
          imports.push(run);
        },
        async () => {
          log(`ingest-bulk: run ${round + 1}/${options.runs}: COPY`);
          const ms = await copy();
          log(`ingest-bulk:   ${(ms / 1000).toFixed(2)} s, ${Math.round((stored * 1000) / ms)} rows/s`);
          copyMs.push(ms);
        },
      ];
      if (round % 2 === 1) steps.reverse();
      for (const step of steps) await step();
    }
    return {
      spec,
      rows: written.rows,
      bytes: written.bytes,
      stored,
      pgVersion: pgVersion[0]?.v ?? '?',
      commit: commitOf(),
      fixedCost,
      imports,
      copyMs,
      cli,
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanUp();
  }
}
