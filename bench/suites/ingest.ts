import type { Kysely } from 'kysely';
import type { RulesSnapshot } from '../../src/alerts/evaluation.service.js';
import type { Principal } from '../../src/auth/api-key.js';
import type { Database } from '../../src/db/schema.js';
import type { RawObservation } from '../../src/ingest/observation.types.js';
import { submitObservations, type UploadMeta } from '../../src/ingest/submission.service.js';
import { submitObservationsBatched } from '../experiments/batched-submit.js';
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
import { timeInterleaved } from '../lib/stats.js';

export const BENCH_PRINCIPAL: Principal = { keyId: 'bench', name: 'bench', role: 'admin', institution: null };
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
  /** Statements of one production upload, by label, and that upload's duration. */
  readonly profile: Map<string, StatementStats>;
  readonly profiledMs: number;
  readonly batched: BatchedVariant[];
}

/** One variant of the set-based experiment. */
export interface BatchedVariant {
  readonly label: string;
  readonly ms: number[];
  readonly statements: number;
}

type BareDb = Kysely<{ [BARE_TABLE]: ObservationRecord }>;
const INSERT_CHUNK = 10_000;

async function count(db: Kysely<Database>, table: 'observations' | 'alert_events'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Measures one upload five ways, interleaved round by round: production `submitObservations`, the two
 * set-based variants of the experiment, COPY and a multi-row INSERT of the raw rows into a bare table.
 * Then, untimed, one profiled upload per ingest variant, checking the variants store the same.
 */
export async function runIngest(
  engine: BenchEngine,
  snapshot: RulesSnapshot,
  scenario: IngestScenario,
  runs: number,
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
  const batched = (target: Kysely<Database>, batchTransitions: boolean) =>
    submitObservationsBatched(upload(target), scenario.raw, scenario.meta, BENCH_PRINCIPAL, NOW, {
      batchTransitions,
    });

  const [ingestMs, storeMs, allMs, copyMs, insertMs] = (await timeInterleaved(runs, [
    { setup: fresh, body: () => production(db) },
    { setup: fresh, body: () => batched(db, false) },
    { setup: fresh, body: () => batched(db, true) },
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
  ])) as [number[], number[], number[], number[], number[]];

  // One more production upload, every statement counted and timed; then what it stored.
  await fresh();
  const profiler = new StatementProfiler();
  const profiledStarted = performance.now();
  const receipt = await production(db.withPlugin(profiler));
  const profiledMs = performance.now() - profiledStarted;
  const written = await count(db, 'observations');
  const productionAlerts = receipt.alerts.length;

  const variants: BatchedVariant[] = [];
  for (const [batchTransitions, ms] of [
    [false, storeMs],
    [true, allMs],
  ] as const) {
    await fresh();
    const batchedProfiler = new StatementProfiler();
    const result = await batched(db.withPlugin(batchedProfiler), batchTransitions);
    const stored = {
      submissions: result.submissions,
      observations: await count(db, 'observations'),
      alerts: result.alerts.length,
      events: await count(db, 'alert_events'),
    };
    const expected = {
      submissions: receipt.submissions.length,
      observations: written,
      alerts: productionAlerts,
      events: productionAlerts,
    };
    if (JSON.stringify(stored) !== JSON.stringify(expected)) {
      throw new Error(`batched experiment diverges from production: ${JSON.stringify({ stored, expected })}`);
    }
    variants.push({
      label: batchTransitions ? 'set-based store + locks + transitions' : 'set-based store + locks',
      ms,
      statements: batchedProfiler.total().count,
    });
  }
  await engine.truncate();

  return {
    engine: engine.name,
    scenario,
    submissions: receipt.submissions.length,
    written,
    alerts: productionAlerts,
    ingestMs,
    copyMs,
    insertMs,
    profile: new Map(profiler.stats),
    profiledMs,
    batched: variants,
  };
}
