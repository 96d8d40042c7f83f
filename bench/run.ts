/**
 * RiskWatch benchmarks: ingest against COPY and INSERT, CSV parsing and validation against csv-parse,
 * the pure rule evaluator, and the alert list query. PGlite always; PostgreSQL too when
 * BENCH_DATABASE_URL is set (a database of its own, `riskwatch_bench_<hex>`, is created and dropped).
 * Prints markdown tables of medians and ratios on stdout, progress on stderr.
 *
 * The bulk import (`ingest-bulk`) is PostgreSQL only: it uses BENCH_DATABASE_URL, or
 * postgres://postgres@127.0.0.1:5432/postgres when that is unset (skipped, when not asked for by name,
 * if no server answers there).
 *
 * Options: `--quick` a smoke run (one timed run, small sizes, < 30 s); `--runs N` timed runs per
 * measurement (default 7; the bulk import 3); `--pglite-memory` PGlite in memory as the tests use it,
 * instead of on disk as the service uses it. Suite names as arguments run only those suites:
 * ingest, parse, evaluate, alerts, ingest-bulk (default: all). The bulk import's size:
 * BENCH_INSTITUTIONS (default 30,000; 3,000 with --quick) × BENCH_METRICS (default 20).
 *
 *   npm run bench
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench
 *   npx tsx bench/run.ts --quick
 *   npm run bench -- ingest-bulk
 *   npm run bench -- --quick ingest-bulk
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadRulesDir } from '../src/rules/rules.runtime.js';
import { type BenchEngine, openPglite, openPostgres, pgliteVersion } from './lib/engine.js';
import { fmt, markdownTable, median, perSecond, quantile } from './lib/stats.js';
import { type AlertQueryResult, runAlertQueries } from './suites/alerts.js';
import { runEvaluate } from './suites/evaluate.js';
import { NATIONAL_GOALS, type NationalResult, runEvaluateNational } from './suites/evaluate-national.js';
import { type IngestResult, ingestScenarios, NOW, runIngest } from './suites/ingest.js';
import {
  BULK_GOALS,
  type BulkResult,
  DEFAULT_BENCH_DATABASE_URL,
  runIngestBulk,
} from './suites/ingest-bulk.js';
import { runParse } from './suites/parse.js';

const SUITES = ['ingest', 'parse', 'evaluate', 'alerts', 'ingest-bulk', 'evaluate-national'] as const;
type Suite = (typeof SUITES)[number];
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    'pglite-memory': { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
  },
});
const unknown = positionals.filter((p) => !(SUITES as readonly string[]).includes(p));
if (unknown.length > 0)
  throw new Error(`unknown suite(s) ${unknown.join(', ')}; suites: ${SUITES.join(', ')}`);
const selected = new Set<Suite>(positionals.length > 0 ? (positionals as Suite[]) : SUITES);
const quick = args.quick === true;
const runs = args.runs ? Number(args.runs) : quick ? 1 : 7;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
const bulkRuns = args.runs ? runs : quick ? 1 : 3;
const envCount = (name: string, fallback: number) => {
  const value = process.env[name] ? Number(process.env[name]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
};
const bulkSpec = {
  institutions: envCount('BENCH_INSTITUTIONS', quick ? 3000 : 30_000),
  metrics: envCount('BENCH_METRICS', 20),
};
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
if (selected.has('ingest') || selected.has('alerts')) {
  for (const open of engines) {
    const engine = await open();
    try {
      versions.push(engine.version);
      if (selected.has('ingest')) {
        for (const scenario of scenarios) {
          log(`${engine.name}: ingest ${scenario.key} (${scenario.raw.length} rows)`);
          ingest.push(await runIngest(engine, snapshot, scenario, runs, PROFILED_UPLOADS));
        }
      }
      if (selected.has('alerts')) {
        log(`${engine.name}: alert list`);
        alertResults.push(
          ...(await runAlertQueries(engine, snapshot, sizes.alertCopies, sizes.alerts, sizes.alertSamples)),
        );
      }
    } finally {
      await engine.close();
    }
  }
  out.push(
    `Engines: ${versions.join('; ')}${args['pglite-memory'] ? ' (PGlite in memory)' : ' (PGlite on disk)'}.`,
  );
}

// --- 1. Ingest -----------------------------------------------------------------------------------
if (selected.has('ingest')) {
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
      [
        'engine',
        'upload',
        'submissions',
        'observation rows written',
        'alerts raised',
        'statements per upload',
      ],
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
}

// --- 2. Parsing ----------------------------------------------------------------------------------
if (selected.has('parse')) {
  log(`parse ${sizes.parseRows} rows`);
  const parse = await runParse(snapshot.catalog, sizes.parseRows, runs);
  out.push(
    '',
    `## 2. Reading: ${parse.rows} long-layout rows (${fmt(parse.bytes / 2 ** 20)} MiB) streamed from a file`,
    '',
  );
  const floor = median(parse.csvParseMs);
  out.push(
    markdownTable(
      ['step', 'median ms', 'rows/s', 'time vs csv-parse alone'],
      [
        ['csv-parse alone, streamed from the file', parse.csvParseMs],
        ['inspect + readTable + header layout', parse.parseCsvMs],
        ['validateObservations (on rows in memory)', parse.validateMs],
        ['read + validate, as an upload runs', parse.bothMs],
      ].map(([label, ms]) => {
        const m = median(ms as number[]);
        return [label as string, fmt(m), fmt(perSecond(parse.rows, m)), `${fmt(m / floor)}×`];
      }),
    ),
  );
}

// --- 3. Evaluation -------------------------------------------------------------------------------
if (selected.has('evaluate')) {
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
}

// --- 4. Alert list -------------------------------------------------------------------------------
if (selected.has('alerts')) {
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
}

// --- 5. Bulk import through the CLI ----------------------------------------------------------------
if (selected.has('ingest-bulk')) {
  const bulkUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL;
  const reachable = await canConnect(bulkUrl);
  if (!reachable && positionals.length > 0) throw new Error(`ingest-bulk: no PostgreSQL at ${bulkUrl}`);
  if (!reachable) {
    log(`ingest-bulk: skipped, no PostgreSQL at ${bulkUrl} (set BENCH_DATABASE_URL)`);
    out.push('', `## 5. Bulk import through the CLI: skipped, no PostgreSQL at ${bulkUrl}`);
  } else {
    out.push(...bulkSection(await runIngestBulk({ url: bulkUrl, spec: bulkSpec, runs: bulkRuns, log })));
  }
}

// --- 6. Evaluation at national scale (PostgreSQL) ----------------------------------------------------
if (selected.has('evaluate-national')) {
  const nationalUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL;
  const reachable = await canConnect(nationalUrl);
  if (!reachable && positionals.length > 0)
    throw new Error(`evaluate-national: no PostgreSQL at ${nationalUrl}`);
  if (!reachable) {
    log(`evaluate-national: skipped, no PostgreSQL at ${nationalUrl} (set BENCH_DATABASE_URL)`);
    out.push('', `## 6. Evaluation at national scale: skipped, no PostgreSQL at ${nationalUrl}`);
  } else {
    const result = await runEvaluateNational({
      url: nationalUrl,
      spec: {
        institutions: envCount('BENCH_NATIONAL_INSTITUTIONS', quick ? 3000 : 30_000),
        metrics: 20,
        months: 36,
        end: '2026-06',
        driftShare: 0.05,
        seed: 1,
      },
      runs: args.runs ? runs : quick ? 1 : 5,
      incrementalSamples: quick ? 21 : 101,
      fresh: args.fresh === true,
      log,
    });
    out.push(...nationalSection(result));
  }
}

out.push(
  '',
  `Total benchmark time: ${fmt((performance.now() - started) / 1000)} s; load average at end: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}.`,
);
process.stdout.write(`${out.join('\n')}\n`);

async function canConnect(target: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

function bulkSection(r: BulkResult): string[] {
  const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : fmt(bytes / 1e6));
  const importMs = median(r.imports.map((i) => i.ms));
  const copyMs = median(r.copyMs);
  const rss = r.imports.map((i) => i.peakRssBytes).filter((v): v is number => v !== undefined);
  const peak = rss.length > 0 ? median(rss) : undefined;
  const rate = perSecond(r.rows, importMs);
  const ratio = importMs / copyMs;
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const size = `${r.spec.institutions.toLocaleString('en-US')} × ${r.spec.metrics}`;
  const lines = [
    '',
    `## 5. Bulk import through the CLI: ${r.rows.toLocaleString('en-US')} rows ` +
      `(${r.spec.institutions.toLocaleString('en-US')} institutions × ${r.spec.metrics} monthly metrics, one month, ` +
      `${fmt(r.bytes / 2 ** 20)} MiB) vs COPY into \`observations\``,
    '',
    `${r.cli === 'compiled' ? '`node dist/src/main.js import <file>` (the production build)' : '`node --import tsx src/main.ts import <file>` (`npm run cli`)'} in a child process, wall time from spawn to exit; peak RSS of ` +
      `the child; COPY of the ${r.stored.toLocaleString('en-US')} rows the import stores into the same table ` +
      `(key, index, foreign key) of a second database. ${r.imports.length} run(s) each, alternating; medians. ` +
      `PostgreSQL ${r.pgVersion}, ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `Node ${process.version}, commit ${r.commit}.`,
    '',
    markdownTable(
      ['', 'import s', 'import rows/s', 'peak RSS MB', 'COPY s', 'COPY rows/s', 'import ÷ COPY'],
      [
        [
          'measured',
          fmt(importMs / 1000),
          fmt(rate),
          mb(peak),
          fmt(copyMs / 1000),
          fmt(perSecond(r.stored, copyMs)),
          `${fmt(ratio)}×`,
        ],
        [
          'goal',
          '',
          `≥ ${BULK_GOALS.rowsPerSecond.toLocaleString('en-US')} (${mark(rate >= BULK_GOALS.rowsPerSecond)})`,
          `≤ ${fmt(BULK_GOALS.peakRssBytes / 1e6)} (${peak === undefined ? 'n/a' : mark(peak <= BULK_GOALS.peakRssBytes)})`,
          '',
          '',
          `≤ ${BULK_GOALS.copyRatio}× (${mark(ratio <= BULK_GOALS.copyRatio)})`,
        ],
      ],
    ),
    '',
    `Every run: import ${r.imports.map((i) => fmt(i.ms / 1000)).join(', ')} s; peak RSS ` +
      `${r.imports.map((i) => mb(i.peakRssBytes)).join(', ')} MB; COPY ${r.copyMs.map((ms) => fmt(ms / 1000)).join(', ')} s. ` +
      `Alerts raised per import: ${[...new Set(r.imports.map((i) => i.alerts ?? '?'))].join(', ')}. ` +
      `CLI fixed cost (the same import of one institution's ${r.spec.metrics} rows): ${fmt(r.fixedCost.ms / 1000)} s, ` +
      `peak RSS ${mb(r.fixedCost.peakRssBytes)} MB.`,
  ];
  const timings = r.imports.flatMap((i, k) => i.childTimings.map((t) => `- run ${k + 1}: ${t}`));
  if (timings.length > 0) lines.push('', 'Timings the import printed itself:', '', ...timings);
  lines.push(
    '',
    'Row for docs/benchmarks.md:',
    '',
    markdownTable(
      ['date', 'commit', 'rows', 'import s', 'rows/s', 'peak RSS MB', 'COPY s', 'import ÷ COPY'],
      [
        [
          new Date().toISOString().slice(0, 10),
          r.commit,
          `${r.rows.toLocaleString('en-US')} (${size})`,
          fmt(importMs / 1000),
          fmt(rate),
          mb(peak),
          fmt(copyMs / 1000),
          `${fmt(ratio)}×`,
        ],
      ],
    ),
  );
  return lines;
}

function nationalSection(r: NationalResult): string[] {
  const full = median(r.fullMs);
  const steady = median(r.steadyMs);
  const incremental = median(r.incrementalMs);
  const afterOther = median(r.afterOtherMs);
  const floor = median(r.floorMs);
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const types = Object.entries(r.metricsByType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  return [
    '',
    `## 6. Evaluation at national scale: ${r.spec.institutions.toLocaleString('en-US')} institutions, ` +
      `${r.observations.toLocaleString('en-US')} observations (${r.spec.months} months and their quarters), ` +
      `${r.rules} rules, PostgreSQL`,
    '',
    `Database \`${r.database}\` (kept between runs; \`--fresh\` rebuilds it), metrics per institution: ${types}. ` +
      `${r.activeBefore.toLocaleString('en-US')} alerts active before the latest period; the full evaluation makes ` +
      `${r.fullTransitions.toLocaleString('en-US')} transitions. ${r.fullMs.length} timed run(s) after a warm-up, ` +
      `${r.incrementalMs.length} incremental samples; medians.`,
    '',
    markdownTable(
      ['measurement', 'median ms', 'min–max ms', 'goal', 'vs the floor query'],
      [
        [
          'full evaluation of the latest period (window)',
          r.fullMs,
          `≤ ${NATIONAL_GOALS.fullMs} (${mark(full <= NATIONAL_GOALS.fullMs)})`,
          full / floor,
        ],
        ['the same again (steady state: nothing changes)', r.steadyMs, '', steady / floor],
        [
          "incremental: one institution's upload evaluation, nothing changed since the last",
          r.incrementalMs,
          `≤ ${NATIONAL_GOALS.incrementalMs} (${mark(incremental <= NATIONAL_GOALS.incrementalMs)})`,
          incremental / floor,
        ],
        [
          '… right after another institution of its type filed a new version',
          r.afterOtherMs,
          `≤ ${NATIONAL_GOALS.incrementalMs} (${mark(afterOther <= NATIONAL_GOALS.incrementalMs)})`,
          afterOther / floor,
        ],
        ['floor: one SQL query for the plain threshold breaches', r.floorMs, `${r.floorRows} rows`, 1],
        ...(['lock_ms', 'read_ms', 'evaluate_ms', 'record_ms'] as const).map((phase) => [
          `full evaluation, phase ${phase.replace('_ms', '')}`,
          r.fullPhases.map((p) => p[phase]),
          '',
          median(r.fullPhases.map((p) => p[phase])) / floor,
        ]),
      ].map(([label, ms, goal, ratio]) => [
        label as string,
        fmt(median(ms as number[])),
        `${fmt(Math.min(...(ms as number[])))}–${fmt(Math.max(...(ms as number[])))}`,
        goal as string,
        `${fmt(ratio as number)}×`,
      ]),
    ),
  ];
}
