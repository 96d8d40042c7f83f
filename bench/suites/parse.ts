import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse';
import type { Catalog } from '../../src/catalog/catalog.js';
import { interpretHeader, rowObservations, type TableRow } from '../../src/ingest/layout.js';
import type { RawObservation } from '../../src/ingest/observation.types.js';
import { ObservationCollector, validateObservations } from '../../src/ingest/observation.validator.js';
import { readObservations } from '../../src/ingest/table.observations.js';
import { inspectFile, readTable, readTableBatches } from '../../src/ingest/upload.file.js';
import { clonedPopulation, institutionMap, toLongCsv } from '../lib/data.js';
import { timeInterleaved } from '../lib/stats.js';
import { BENCH_PRINCIPAL, END_PERIOD } from './ingest.js';

export interface ParseResult {
  readonly rows: number;
  readonly bytes: number;
  readonly csvParseMs: number[];
  readonly parseCsvMs: number[];
  readonly validateMs: number[];
  readonly bothMs: number[];
}

const LIMITS = { maxRows: 10_000_000, maxColumns: 1000 };

/**
 * Reading a long-layout CSV file as the upload path does (streamed from disk), against csv-parse alone
 * on the same file: the library floor. Also validation alone, on observations already in memory.
 */
export async function runParse(catalog: Catalog, rows: number, runs: number): Promise<ParseResult> {
  const perCopy = clonedPopulation(1, END_PERIOD, 24).observations.length;
  const population = clonedPopulation(Math.ceil(rows / perCopy), END_PERIOD, 24);
  const observations = population.observations.slice(0, rows);
  const text = toLongCsv(observations);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-bench-'));
  const file = { path: path.join(dir, 'long.csv'), name: 'long.csv' };
  fs.writeFileSync(file.path, text);
  const ctx = { catalog, institutions: institutionMap(population.institutions), principal: BENCH_PRINCIPAL };

  const check = (n: number, what: string) => {
    if (n !== rows) throw new Error(`${what} gave ${n} rows, expected ${rows}`);
  };
  const readRaw = async () => {
    const inspection = await inspectFile(file);
    const raw: RawObservation[] = [];
    let layout: ReturnType<typeof interpretHeader>['layout'] | undefined;
    for await (const row of readTable(file, inspection, { limits: LIMITS }) as AsyncIterable<TableRow>) {
      if (!layout) layout = interpretHeader(row, catalog).layout;
      else rowObservations(layout, row, (o) => raw.push(o));
    }
    return raw;
  };
  const inMemory = await readRaw();
  const none = () => undefined;
  try {
    const [csvParseMs, parseCsvMs, validateMs, bothMs] = (await timeInterleaved(runs, [
      {
        setup: none,
        body: async () => {
          let n = 0;
          for await (const _ of fs.createReadStream(file.path).pipe(parse({ relax_column_count: true })))
            n += 1;
          check(n - 1, 'csv-parse');
        },
      },
      { setup: none, body: async () => check((await readRaw()).length, 'readTable + layout') },
      {
        setup: none,
        body: () => {
          const { errors } = validateObservations(inMemory, ctx);
          if (errors.length > 0) throw new Error(`validation: ${JSON.stringify(errors.slice(0, 3))}`);
        },
      },
      {
        setup: none,
        body: async () => {
          const collector = new ObservationCollector(ctx);
          await readObservations(
            readTableBatches(file, await inspectFile(file), { limits: LIMITS }),
            catalog,
            collector,
          );
          if (collector.problems.hasErrors || collector.count !== rows)
            throw new Error('the CSV should be valid');
        },
      },
    ])) as [number[], number[], number[], number[]];
    return { rows, bytes: Buffer.byteLength(text), csvParseMs, parseCsvMs, validateMs, bothMs };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
