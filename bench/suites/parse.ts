import { parse } from 'csv-parse/sync';
import type { Catalog } from '../../src/catalog/catalog.js';
import { parseCsv } from '../../src/ingest/csv.parser.js';
import { validateObservations } from '../../src/ingest/observation.validator.js';
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

/** parseCsv + validateObservations on a long-layout CSV held in memory, against csv-parse alone. */
export async function runParse(catalog: Catalog, rows: number, runs: number): Promise<ParseResult> {
  const perCopy = clonedPopulation(1, END_PERIOD, 24).observations.length;
  const population = clonedPopulation(Math.ceil(rows / perCopy), END_PERIOD, 24);
  const observations = population.observations.slice(0, rows);
  const text = toLongCsv(observations);
  const ctx = { catalog, institutions: institutionMap(population.institutions), principal: BENCH_PRINCIPAL };

  const check = (n: number, what: string) => {
    if (n !== rows) throw new Error(`${what} gave ${n} rows, expected ${rows}`);
  };
  const parsed = parseCsv(text, catalog);
  const none = () => undefined;
  const [csvParseMs, parseCsvMs, validateMs, bothMs] = (await timeInterleaved(runs, [
    {
      // The library floor: csv-parse with the options parseCsv passes it.
      setup: none,
      body: () => {
        const records = parse(text, {
          skip_empty_lines: true,
          relax_column_count: true,
          max_record_size: 64 * 1024,
          trim: true,
        }) as string[][];
        check(records.length - 1, 'csv-parse');
      },
    },
    { setup: none, body: () => check(parseCsv(text, catalog).observations.length, 'parseCsv') },
    {
      setup: none,
      body: () => {
        const { errors } = validateObservations(parsed.observations, ctx);
        if (errors.length > 0) throw new Error(`validation: ${JSON.stringify(errors.slice(0, 3))}`);
      },
    },
    {
      setup: none,
      body: () => {
        const result = parseCsv(text, catalog);
        const { errors } = validateObservations(result.observations, ctx);
        if (result.errors.length + errors.length > 0) throw new Error('the CSV should be valid');
      },
    },
  ])) as [number[], number[], number[], number[]];
  return { rows, bytes: Buffer.byteLength(text), csvParseMs, parseCsvMs, validateMs, bothMs };
}
