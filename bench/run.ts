/**
 * RiskWatch benchmarks: ingest against COPY and INSERT, CSV parsing and validation against csv-parse,
 * the pure rule evaluator, and the alert list query. PGlite always; PostgreSQL too when
 * BENCH_DATABASE_URL is set (a database of its own, `riskwatch_bench_<hex>`, is created and dropped).
 * Prints markdown tables of medians and ratios on stdout, progress on stderr.
 *
 * Options: `--quick` a smoke run (one timed run, small sizes, < 30 s); `--runs N` timed runs per
 * measurement (default 7); `--pglite-memory` PGlite in memory as the tests use it, instead of on disk
 * as the service uses it.
 *
 *   npm run bench
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench
 *   npx tsx bench/run.ts --quick
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadRulesDir } from '../src/rules/rules.runtime.js';
import { type BenchEngine, openPglite, openPostgres, pgliteVersion } from './lib/engine.js';
import { fmt, markdownTable, median, perSecond, quantile } from './lib/stats.js';
import { type AlertQueryResult, runAlertQueries } from './suites/alerts.js';
import { runEvaluate } from './suites/evaluate.js';
import { type IngestResult, ingestScenarios, NOW, runIngest } from './suites/ingest.js';
import { runParse } from './suites/parse.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'pglite-memory': { type: 'boolean', default: false },
  },
});
const quick = args.quick === true;
const runs = args.runs ? Number(args.runs) : quick ? 1 : 7;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
const PROFILED_UPLOADS = quick ? 1 : 3;
const sizes = quick
  ? { parseRows: 10_000, evalCopies: 5, alertCopies: 5, alerts: 500, alertSamples: 20 }
  : { parseRows: 100_000, evalCopies: 50, alertCopies: 50, alerts: 5000, alertSamples: 200 };

const started = performance.now();
const log = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

const loaded = loadRulesDir('rules', NOW);
if (!loaded.ok) throw new Error(`rules/ does not load: ${JSON.stringify(loaded.problems)}`);
const snapshot = loaded.value;

const cpu =
  fs
    .readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('model name'))
    ?.split(':')[1]
    ?.trim() ?? os.cpus()[0]?.model;
const out: string[] = [];
out.push(
  `# RiskWatch benchmarks${quick ? ' (--quick smoke run: sizes and run count are NOT representative)' : ''}`,
);
out.push('');
out.push(
  `Node ${process.version}, PGlite ${pgliteVersion()}, ${os.cpus().length} × ${cpu}, ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${runs} timed run(s) after one warm-up, medians shown. ` +
    `Load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.`,
);

// --- Engines -------------------------------------------------------------------------------------
const engines: Array<() => Promise<BenchEngine>> = [() => openPglite(args['pglite-memory'] === true)];
const url = process.env.BENCH_DATABASE_URL;
if (url) engines.push(() => openPostgres(url));

const ingest: IngestResult[] = [];
const alertResults: AlertQueryResult[] = [];
const versions: string[] = [];
const scenarios = ingestScenarios(quick);
for (const open of engines) {
  const engine = await open();
  try {
    versions.push(engine.version);
    for (const scenario of scenarios) {
      log(`${engine.name}: ingest ${scenario.key} (${scenario.raw.length} rows)`);
      ingest.push(await runIngest(engine, snapshot, scenario, runs, PROFILED_UPLOADS));
    }
    log(`${engine.name}: alert list`);
    alertResults.push(
      ...(await runAlertQueries(engine, snapshot, sizes.alertCopies, sizes.alerts, sizes.alertSamples)),
    );
  } finally {
    await engine.close();
  }
}
out.push(
  `Engines: ${versions.join('; ')}${args['pglite-memory'] ? ' (PGlite in memory)' : ' (PGlite on disk)'}.`,
);

// --- 1. Ingest -----------------------------------------------------------------------------------
out.push('', '## 1. Ingest: submitObservations vs COPY and multi-row INSERT of the same rows', '');
for (const s of scenarios) out.push(`- **${s.key}**: ${s.label}: ${s.raw.length} raw observations`);
out.push('');
out.push(
  markdownTable(
    [
      'engine',
      'upload',
      'rows',
      'submitObservations ms',
      'obs/s',
      'COPY ms',
      'COPY obs/s',
      'INSERT ms',
      'INSERT obs/s',
      'ingest/COPY',
      'ingest/INSERT',
    ],
    ingest.map((r) => {
      const n = r.scenario.raw.length;
      const [i, c, m] = [median(r.ingestMs), median(r.copyMs), median(r.insertMs)];
      return [
        r.engine,
        r.scenario.key,
        String(n),
        fmt(i),
        fmt(perSecond(n, i)),
        fmt(c),
        fmt(perSecond(n, c)),
        fmt(m),
        fmt(perSecond(n, m)),
        `${fmt((c / i) * 100, 2)} % (${fmt(i / c)}× slower)`,
        `${fmt((m / i) * 100, 2)} % (${fmt(i / m)}× slower)`,
      ];
    }),
  ),
);
out.push('');
out.push(
  'Ratios are throughputs: ingest obs/s ÷ COPY obs/s. COPY and INSERT write only the raw rows into a bare table ' +
    '(no key, no index); submitObservations also writes the derived ratios, the submissions, the upload, ' +
    'alerts, alert events, outbox rows and the audit entry, and evaluates the rules:',
);
out.push('');
out.push(
  markdownTable(
    ['engine', 'upload', 'submissions', 'observation rows written', 'alerts raised', 'statements per upload'],
    ingest.map((r) => [
      r.engine,
      r.scenario.key,
      String(r.submissions),
      String(r.written),
      String(r.alerts),
      String(r.statements),
    ]),
  ),
);
out.push(
  '',
  `### Where an upload spends its time (${PROFILED_UPLOADS} extra upload(s), every statement counted and timed; ` +
    'ms are medians over those uploads)',
  '',
);
out.push(
  markdownTable(
    ['engine', 'upload', 'statement', 'count', 'ms in database', 'share of upload'],
    ingest.flatMap((r) => {
      const total = r.profiledMs;
      const inDb = [...r.profile.values()].reduce((ms, s) => ms + s.ms, 0);
      return [...r.profile.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([label, s]) => [
          r.engine,
          r.scenario.key,
          label,
          String(s.count),
          fmt(s.ms),
          `${fmt((s.ms / total) * 100, 2)} %`,
        ])
        .concat([
          [
            r.engine,
            r.scenario.key,
            '**outside statements** (JS, BEGIN/COMMIT)',
            '',
            fmt(total - inDb),
            `${fmt(((total - inDb) / total) * 100, 2)} %`,
          ],
        ]);
    }),
  ),
);

// --- 2. Parsing ----------------------------------------------------------------------------------
log(`parse ${sizes.parseRows} rows`);
const parse = await runParse(snapshot.catalog, sizes.parseRows, runs);
out.push(
  '',
  `## 2. Parsing: ${parse.rows} long-layout rows (${fmt(parse.bytes / 2 ** 20)} MiB) in memory`,
  '',
);
const floor = median(parse.csvParseMs);
out.push(
  markdownTable(
    ['step', 'median ms', 'rows/s', 'time vs csv-parse alone'],
    [
      ['csv-parse alone (parseCsv options)', parse.csvParseMs],
      ['parseCsv', parse.parseCsvMs],
      ['validateObservations (on parsed rows)', parse.validateMs],
      ['parseCsv + validateObservations', parse.bothMs],
    ].map(([label, ms]) => {
      const m = median(ms as number[]);
      return [label as string, fmt(m), fmt(perSecond(parse.rows, m)), `${fmt(m / floor)}×`];
    }),
  ),
);

// --- 3. Evaluation -------------------------------------------------------------------------------
log(`evaluate ${sizes.evalCopies * 20} institutions`);
const evalResult = await runEvaluate(snapshot, sizes.evalCopies, quick ? 6 : 24, runs);
out.push(
  '',
  `## 3. Evaluation: evaluate() with the shipped rules (${snapshot.rules.length} rules), ` +
    `${evalResult.institutions} institutions × ${evalResult.months} months, ${evalResult.observations} observations ` +
    `(reported + derived), ${evalResult.series} series (rule × institution)`,
  '',
);
out.push(
  markdownTable(
    ['case', 'median ms', 'series/s', 'institutions/s', 'observations/s', 'transitions'],
    [
      ['cold: no previous alert', evalResult.coldMs, evalResult.transitions],
      ['steady: previous = last result', evalResult.steadyMs, 0],
    ].map(([label, ms, transitions]) => {
      const m = median(ms as number[]);
      return [
        label as string,
        fmt(m),
        fmt(perSecond(evalResult.series, m)),
        fmt(perSecond(evalResult.institutions, m)),
        fmt(perSecond(evalResult.observations, m)),
        String(transitions),
      ];
    }),
  ),
);

// --- 4. Alert list -------------------------------------------------------------------------------
out.push(
  '',
  `## 4. Alert list: listAlerts with ${sizes.alerts} alerts over ${sizes.alertCopies * 20} institutions, ` +
    `${sizes.alertSamples} calls per query after a warm-up`,
  '',
);
out.push(
  markdownTable(
    ['engine', 'filter', 'rows returned', 'median ms', 'p99 ms', 'max ms'],
    alertResults.map((r) => [
      r.engine,
      r.label,
      String(r.rows),
      fmt(median(r.samplesMs)),
      fmt(quantile(r.samplesMs, 0.99)),
      fmt(Math.max(...r.samplesMs)),
    ]),
  ),
);

out.push(
  '',
  `Total benchmark time: ${fmt((performance.now() - started) / 1000)} s; load average at end: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}.`,
);
process.stdout.write(`${out.join('\n')}\n`);
