import type { Kysely } from 'kysely';
import type { RulesSnapshot } from '../../src/alerts/evaluation.service.js';
import type { Principal } from '../../src/auth/api-key.js';
import type { Database } from '../../src/db/schema.js';
import type { RawObservation } from '../../src/ingest/observation.types.js';
import { submitObservations } from '../../src/ingest/submission.service.js';

type UploadMeta = Parameters<typeof submitObservations>[2];

import {
  clonedPopulation,
  type ObservationRecord,
  type Population,
  seedInstitutions,
  toCopyCsv,
  toLongCsv,
  toRaw,
  toRecords,
} from '../lib/data.js';
import { BARE_TABLE, type BenchEngine } from '../lib/engine.js';
import { StatementProfiler, type StatementStats } from '../lib/profiler.js';
import { median, timeInterleaved } from '../lib/stats.js';

export const BENCH_PRINCIPAL: Principal = {
  keyId: 'bench',
  name: 'bench',
  role: 'admin',
  institution: null,
  email: null,
};
/** The reporting month of the uploads: a quarter end, so banks also file their quarterly figures. */
export const END_PERIOD = '2025-06';
export const NOW = new Date('2025-07-15T02:00:00Z');

/** One upload to measure. */
export interface IngestScenario {
  readonly key: string;
  readonly label: string;
  readonly population: Population;
  readonly raw: RawObservation[];
  readonly meta: UploadMeta;
  readonly records: ObservationRecord[];
  readonly copyCsv: string;
}

export function ingestScenarios(quick: boolean): IngestScenario[] {
  const make = (key: string, label: string, population: Population): IngestScenario => {
    const csv = toLongCsv(population.observations);
    const records = toRecords(population.observations);
    return {
      key,
      label,
      population,
      raw: toRaw(population.observations),
      meta: {
        fileName: `${key}.csv`,
        bytes: Buffer.from(csv),
        format: 'csv-long',
        rowCount: population.observations.length,
      },
      records,
      copyCsv: toCopyCsv(records),
    };
  };
  const monthlyCopies = quick ? 1 : 10;
  const historyMonths = quick ? 6 : 24;
  // One month ending at a quarter end: banks file June and 2025-Q2, the others June.
  const monthly = clonedPopulation(monthlyCopies, END_PERIOD, 1);
  return [
    make(
      'monthly',
      `city-wide monthly upload: ${monthly.institutions.length} institutions × ${END_PERIOD} (+ 2025-Q2 for banks)`,
      monthly,
    ),
    make(
      'history',
      `history import: 20 institutions × ${historyMonths} months (+ quarters)`,
      clonedPopulation(1, END_PERIOD, historyMonths),
    ),
  ];
}

/** Medians come from these durations (ms), one per timed run. */
export interface IngestResult {
  readonly engine: string;
  readonly scenario: IngestScenario;
  readonly submissions: number;
  readonly written: number;
  readonly alerts: number;
  readonly ingestMs: number[];
  readonly copyMs: number[];
  readonly insertMs: number[];
  /**
   * Statements of a production upload, by label: their count, and their time as the median over a few
   * extra profiled uploads; `profiledMs` is the median duration of those uploads.
   */
  readonly profile: Map<string, StatementStats>;
  readonly profiledMs: number;
  /** Every statement of that upload, BEGIN and COMMIT excluded. */
  readonly statements: number;
}

type BareDb = Kysely<{ [BARE_TABLE]: ObservationRecord }>;
const INSERT_CHUNK = 10_000;

async function count(db: Kysely<Database>, table: 'observations'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Measures one upload three ways, interleaved round by round: production `submitObservations`, COPY
 * and a multi-row INSERT of the raw rows into a bare table. Then `profiledUploads` more production
 * uploads, every statement counted and timed (not part of the medians above).
 */
export async function runIngest(
  engine: BenchEngine,
  snapshot: RulesSnapshot,
  scenario: IngestScenario,
  runs: number,
  profiledUploads = 3,
): Promise<IngestResult> {
  const { db } = engine;
  const fresh = async () => {
    await engine.truncate();
    await seedInstitutions(db, scenario.population.institutions);
  };
  const emptyBare = () => engine.truncate();
  const bare = db as unknown as BareDb;
  const upload = (target: Kysely<Database>) => ({ db: target, snapshot: () => snapshot });
  const production = (target: Kysely<Database>) =>
    submitObservations(upload(target), scenario.raw, scenario.meta, BENCH_PRINCIPAL, NOW);

  const [ingestMs, copyMs, insertMs] = (await timeInterleaved(runs, [
    { setup: fresh, body: () => production(db) },
    { setup: emptyBare, body: () => engine.copyIntoBare(scenario.copyCsv) },
    {
      setup: emptyBare,
      body: async () => {
        for (let i = 0; i < scenario.records.length; i += INSERT_CHUNK) {
          await bare
            .insertInto(BARE_TABLE)
            .values(scenario.records.slice(i, i + INSERT_CHUNK))
            .execute();
        }
        const copied = Number(
          (
            await bare
              .selectFrom(BARE_TABLE)
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
        if (copied !== scenario.records.length) throw new Error(`bare table holds ${copied} rows`);
      },
    },
  ])) as [number[], number[], number[]];

  // Untimed: more production uploads, every statement counted and timed; then what the last stored.
  const profiles: { stats: Map<string, StatementStats>; ms: number; statements: number }[] = [];
  let receipt: Awaited<ReturnType<typeof production>> | undefined;
  for (let k = 0; k < profiledUploads; k++) {
    await fresh();
    const profiler = new StatementProfiler();
    const profiledStarted = performance.now();
    receipt = await production(db.withPlugin(profiler));
    profiles.push({
      stats: new Map(profiler.stats),
      ms: performance.now() - profiledStarted,
      statements: profiler.total().count,
    });
  }
  if (!receipt) throw new Error('no profiled upload');
  const written = await count(db, 'observations');
  const statements = profiles[0]?.statements ?? 0;
  if (profiles.some((p) => p.statements !== statements)) throw new Error('statement counts differ by upload');
  // Per statement label: its count, and the median over the profiled uploads of its time.
  const profile = new Map<string, StatementStats>();
  for (const [label, s] of profiles[0]?.stats ?? []) {
    profile.set(label, { count: s.count, ms: median(profiles.map((p) => p.stats.get(label)?.ms ?? 0)) });
  }

  await engine.truncate();

  return {
    engine: engine.name,
    scenario,
    submissions: receipt.submissions.length,
    written,
    alerts: receipt.alerts.length,
    ingestMs,
    copyMs,
    insertMs,
    profile,
    profiledMs: median(profiles.map((p) => p.ms)),
    statements,
  };
}
