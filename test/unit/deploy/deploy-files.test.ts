import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  type Compose,
  composeSchema,
  copySources,
  dashboardProvidersSchema,
  dashboardSchema,
  dataPanels,
  datasourcesSchema,
  dockerInstructions,
  environmentOf,
  exists,
  grafanaVariablesIn,
  hostPathOf,
  isDockerIgnored,
  missingComposeReferences,
  mountsOf,
  prometheusConfigSchema,
  promqlGroupingLabels,
  promqlMetricNames,
  promqlSelectors,
  ROOT,
  readYaml,
  repoPath,
  rulesFileSchema,
  substituteGrafanaVariables,
} from './deploy.helpers.js';

const compose = readYaml('docker-compose.yml', composeSchema);
const service = (name: string) => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

const DATASOURCES_FILE = 'grafana/provisioning/datasources/datasources.yaml';
const PROVIDERS_FILE = 'grafana/provisioning/dashboards/dashboards.yaml';
const DASHBOARD_FILE = 'grafana/dashboards/riskwatch-overview.json';
const PROMETHEUS_FILE = 'prometheus/prometheus.yml';
const RULES_FILE = 'prometheus/riskwatch.rules.yml';

const datasources = readYaml(DATASOURCES_FILE, datasourcesSchema).datasources;
const dashboard = dashboardSchema.parse(JSON.parse(fs.readFileSync(repoPath(DASHBOARD_FILE), 'utf8')));
const prometheusConfig = readYaml(PROMETHEUS_FILE, prometheusConfigSchema);
const rules = readYaml(RULES_FILE, rulesFileSchema).groups.flatMap((g) => g.rules);

/**
 * The metrics the service exposes and their labels (the /metrics contract); Prometheus adds `job` and
 * `instance` to every one. Histograms add `_bucket` (with `le`), `_sum` and `_count`.
 */
const RISKWATCH_METRICS: Record<string, string[]> = {
  riskwatch_institution_metric_value: ['institution', 'institution_type', 'county', 'metric', 'unit'],
  riskwatch_alerts_firing: ['severity', 'rule', 'institution_type', 'county'],
  riskwatch_alerts_pending: ['severity', 'rule'],
  riskwatch_submissions_total: ['result'],
  riskwatch_validation_errors_total: ['code'],
  riskwatch_rule_evaluation_duration_seconds_bucket: ['le'],
  riskwatch_rule_evaluation_duration_seconds_sum: [],
  riskwatch_rule_evaluation_duration_seconds_count: [],
  riskwatch_rule_evaluations_total: ['result'],
  riskwatch_rule_last_success_timestamp_seconds: [],
  riskwatch_notifications_total: ['route', 'outcome', 'reason'],
  riskwatch_outbox_pending: [],
  riskwatch_outbox_failed: [],
  riskwatch_notification_items_waiting: [],
  riskwatch_outbox_oldest_pending_age_seconds: [],
  riskwatch_build_info: ['version'],
  riskwatch_rules_loaded_info: ['hash'],
  riskwatch_rules_last_reload_successful: [],
  riskwatch_rules_last_reload_success_timestamp_seconds: [],
  riskwatch_rules_reloads_total: ['result'],
};
/** Prometheus's own `up` and prom-client's default process and Node.js metrics, as it names them. */
const OTHER_METRICS = await (async () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const defaults = (await registry.getMetricsAsJSON()).flatMap((m) =>
    String(m.type) === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name],
  );
  return new Set(['up', ...defaults]);
})();

const dashboardPromql = () =>
  dataPanels(dashboard).flatMap((p) =>
    p.targets
      .filter((t) => (t.datasource ?? p.datasource).uid === 'prometheus')
      .map((t) => ({ where: `dashboard panel "${p.title}" ${t.refId}`, expr: t.expr ?? '' })),
  );
const rulesPromql = () => rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr }));

describe('docker-compose.yml', () => {
  it('runs the service, PostgreSQL, Prometheus, Grafana and Mailpit', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'grafana',
      'mailpit',
      'postgres',
      'prometheus',
      'riskwatch',
    ]);
    expect(service('postgres').image).toMatch(/^postgres:15/);
    expect(service('prometheus').image).toMatch(/^prom\/prometheus:/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:/);
    expect(service('mailpit').image).toMatch(/^axllent\/mailpit:/);
    expect(service('mailpit').ports).toContain('8025:8025');
  });

  it('points the service at PostgreSQL and Mailpit and waits for a healthy database', () => {
    const riskwatch = service('riskwatch');
    const env = environmentOf(riskwatch);
    expect(env.DATABASE_URL).toBe('postgres://riskwatch:riskwatch@postgres:5432/riskwatch');
    expect(env.SMTP_URL).toBe('smtp://mailpit:1025');
    expect(riskwatch.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    expect(JSON.stringify(riskwatch.healthcheck?.test)).toContain('/healthz');
    expect(JSON.stringify(service('postgres').healthcheck?.test)).toContain('pg_isready');
    expect(mountsOf(service('postgres')).some((m) => m.target === '/var/lib/postgresql/data')).toBe(true);
  });

  it('refers only to files and folders that exist in the repository', () => {
    expect(missingComposeReferences(compose, ROOT)).toEqual([]);
  });

  it('reports a referenced file that does not exist', () => {
    const broken: Compose = structuredClone(compose);
    const grafana = broken.services.grafana;
    grafana?.volumes?.push('./grafana/no-such-folder:/etc/grafana/extra:ro', 'undeclared-volume:/data');
    broken.services.riskwatch = {
      ...broken.services.riskwatch,
      build: { context: '.', dockerfile: 'Nope.Dockerfile' },
    };
    expect(missingComposeReferences(broken, ROOT)).toEqual([
      'riskwatch dockerfile: Nope.Dockerfile',
      'grafana volume: ./grafana/no-such-folder',
      'grafana volume: named volume undeclared-volume not declared',
    ]);
  });

  it('gives Prometheus a config file and Grafana a home dashboard that exist', () => {
    const configArg = [service('prometheus').command ?? []]
      .flat()
      .find((a) => a.startsWith('--config.file='));
    const config = hostPathOf(service('prometheus'), (configArg ?? '').replace('--config.file=', ''));
    expect(config).toBe('prometheus/prometheus.yml');
    const home = environmentOf(service('grafana')).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    const homeOnHost = hostPathOf(service('grafana'), home);
    expect(homeOnHost && exists(homeOnHost), home).toBe(true);
  });
});

describe('Dockerfile', () => {
  const instructions = dockerInstructions(fs.readFileSync(repoPath('Dockerfile'), 'utf8'));
  const ignore = fs.readFileSync(repoPath('.dockerignore'), 'utf8').split(/\r?\n/);

  it('builds on Node 20 slim with npm ci, runs npm start as a non-root user', () => {
    expect(instructions[0]).toEqual({ op: 'FROM', args: 'node:20-bookworm-slim' });
    expect(instructions.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))).toBe(true);
    expect(instructions.filter((i) => i.op === 'CMD').at(-1)?.args).toBe('["npm", "start"]');
    const user = instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const sources = instructions
      .filter((i) => i.op === 'COPY' || i.op === 'ADD')
      .flatMap((i) => copySources(i.args));
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'rules', 'migrations']),
    );
    for (const s of sources) {
      expect(exists(s), `${s} exists`).toBe(true);
      expect(isDockerIgnored(ignore, s), `${s} is not in .dockerignore`).toBe(false);
    }
  });

  it('keeps dependencies, local data and secrets out of the build context', () => {
    for (const p of [
      'node_modules',
      'node_modules/zod/package.json',
      'data/pglite',
      '.env',
      '.git',
      'test/unit/x.test.ts',
    ]) {
      expect(isDockerIgnored(ignore, p), p).toBe(true);
    }
    expect(isDockerIgnored(['*.log', '!keep.log'], 'keep.log')).toBe(false);
    expect(isDockerIgnored(['*.log'], 'server.log')).toBe(true);
  });
});

describe('Prometheus configuration', () => {
  it('scrapes riskwatch:8080/metrics', () => {
    const job = prometheusConfig.scrape_configs.find((j) => j.job_name === 'riskwatch');
    expect(job?.static_configs?.flatMap((s) => s.targets)).toContain('riskwatch:8080');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(fs.readFileSync(repoPath(PROMETHEUS_FILE), 'utf8')).toMatch(
      /#\s*authorization:[\s\S]*#\s*credentials_file:/,
    );
  });

  it('loads rule files that exist, as mounted in the container', () => {
    const configOnHost = hostPathOf(service('prometheus'), '/etc/prometheus/prometheus.yml');
    expect(configOnHost).toBe(PROMETHEUS_FILE);
    expect(prometheusConfig.rule_files.length).toBeGreaterThan(0);
    for (const file of prometheusConfig.rule_files) {
      // Prometheus resolves relative rule files against the config file's folder.
      const inContainer = path.posix.resolve('/etc/prometheus', file);
      const onHost = hostPathOf(service('prometheus'), inContainer);
      expect(onHost && exists(onHost), `${file} → ${onHost}`).toBe(true);
    }
    expect(prometheusConfig.rule_files.map((f) => path.posix.join('prometheus', f))).toContain(RULES_FILE);
  });

  it('alerts on the service itself: target down, no recent evaluation, outbox, notification failures', () => {
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get('RiskWatchTargetDown')?.expr).toMatch(/up\{job="riskwatch"\} == 0/);
    expect(byName.get('RiskWatchNoRecentEvaluation')?.expr).toMatch(
      /riskwatch_rule_last_success_timestamp_seconds[\s\S]*2 \* 3600/,
    );
    expect(byName.get('RiskWatchOutboxStuck')?.expr).toMatch(
      /riskwatch_outbox_oldest_pending_age_seconds.*> 15 \* 60/,
    );
    expect(byName.get('RiskWatchNotificationsFailing')?.expr).toMatch(/outcome="failed"/);
    for (const r of rules) {
      expect(r.labels?.severity, r.alert).toMatch(/^(critical|warning|info)$/);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
    }
  });
});

describe('Grafana provisioning', () => {
  it('provisions Prometheus and PostgreSQL with the uids the dashboards use', () => {
    const prom = datasources.find((d) => d.uid === 'prometheus');
    const pg = datasources.find((d) => d.uid === 'riskwatch-pg');
    expect(prom).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(pg).toMatchObject({
      type: 'grafana-postgresql-datasource',
      url: 'postgres:5432',
      user: 'riskwatch',
    });
    expect(pg?.jsonData).toMatchObject({ database: 'riskwatch', sslmode: 'disable' });
    // The password comes from Grafana's environment, which compose sets.
    const variable = /^\$\{?(\w+)\}?$/.exec(pg?.secureJsonData?.password ?? '')?.[1];
    expect(variable).toBeDefined();
    expect(Object.keys(environmentOf(service('grafana')))).toContain(variable);
    expect(new Set(datasources.map((d) => d.uid)).size).toBe(datasources.length);
  });

  it('reaches its data sources by compose service names', () => {
    expect(compose.services.prometheus).toBeDefined();
    expect(compose.services.postgres).toBeDefined();
  });

  it('mounts the provisioning files and loads dashboards from a folder that holds the overview', () => {
    const grafana = service('grafana');
    expect(hostPathOf(grafana, '/etc/grafana/provisioning/datasources/datasources.yaml')).toBe(
      DATASOURCES_FILE,
    );
    expect(hostPathOf(grafana, '/etc/grafana/provisioning/dashboards/dashboards.yaml')).toBe(PROVIDERS_FILE);
    const providers = readYaml(PROVIDERS_FILE, dashboardProvidersSchema).providers;
    for (const p of providers) {
      const onHost = hostPathOf(grafana, p.options.path);
      expect(onHost && fs.statSync(repoPath(onHost)).isDirectory(), `${p.options.path} → ${onHost}`).toBe(
        true,
      );
      expect(fs.readdirSync(repoPath(onHost ?? ''))).toContain(path.basename(DASHBOARD_FILE));
    }
  });
});

describe('the overview dashboard', () => {
  const uids = new Map(datasources.map((d) => [d.uid, d.type]));

  it('is valid dashboard JSON with unique panel ids on the grid, without overlaps', () => {
    expect(dashboard.uid).toBe('riskwatch-overview');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `"${p.title}" overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('uses only provisioned data sources, each target with a query of its language', () => {
    for (const p of dataPanels(dashboard)) {
      expect(uids.get(p.datasource.uid), `"${p.title}" datasource`).toBe(p.datasource.type);
      for (const t of p.targets) {
        const ds = t.datasource ?? p.datasource;
        expect(uids.get(ds.uid), `"${p.title}" ${t.refId}`).toBe(ds.type);
        if (ds.type === 'prometheus') expect(t.expr, `"${p.title}" ${t.refId}`).toBeTruthy();
        else expect(t.rawSql, `"${p.title}" ${t.refId}`).toBeTruthy();
      }
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
    }
    for (const v of dashboard.templating.list) {
      if (v.datasource) expect(uids.get(v.datasource.uid), v.name).toBe(v.datasource.type);
    }
  });

  it('has the panels the city overview needs', () => {
    const panels = dataPanels(dashboard);
    const prom = (p: (typeof panels)[number]) => p.datasource.uid === 'prometheus';
    const severities = panels.filter(
      (p) => p.type === 'stat' && /severity="(critical|warning|info)"/.test(p.targets[0]?.expr ?? ''),
    );
    expect(severities).toHaveLength(3);
    expect(
      panels.some(
        (p) =>
          p.type === 'table' &&
          prom(p) &&
          /riskwatch_institution_metric_value/.test(p.targets[0]?.expr ?? ''),
      ),
    ).toBe(true);
    expect(
      panels.some((p) => p.type === 'timeseries' && /riskwatch_alerts_firing/.test(p.targets[0]?.expr ?? '')),
    ).toBe(true);
    const sql = panels.flatMap((p) => p.targets.map((t) => ({ type: p.type, sql: t.rawSql ?? '' })));
    expect(
      sql.some((s) => s.type === 'table' && /FROM alerts/.test(s.sql) && /state = 'firing'/.test(s.sql)),
    ).toBe(true);
    expect(sql.some((s) => s.type === 'timeseries' && s.sql.includes("to_date(o.period, 'YYYY-MM')"))).toBe(
      true,
    );
    for (const metric of [
      'riskwatch_rule_evaluation_duration_seconds_bucket',
      'riskwatch_outbox_pending',
      'riskwatch_notifications_total',
    ]) {
      expect(
        dashboardPromql().some((q) => q.expr.includes(metric)),
        metric,
      ).toBe(true);
    }
  });

  it('defines every variable its queries use, with type, county and institution among them', () => {
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const name of ['institution_type', 'county', 'institution']) expect(defined).toContain(name);
    const queries = [
      ...dataPanels(dashboard).flatMap((p) => [p.title, ...p.targets.map((t) => t.expr ?? t.rawSql ?? '')]),
      ...dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : '')),
    ];
    for (const q of queries)
      for (const v of grafanaVariablesIn(q)) expect(defined, `$${v} in ${q}`).toContain(v);
  });
});

describe('PromQL in the dashboard and the rules', () => {
  it('finds metric names in expressions', () => {
    expect(
      promqlMetricNames('sum by (le) (rate(foo_bucket{a="b"}[5m])) / on() bar > 2 * 3600 and up'),
    ).toEqual(['bar', 'foo_bucket', 'up']);
    expect(promqlSelectors('max(x{job="a", instance=~"b.*"})')).toEqual([
      { metric: 'x', labels: ['job', 'instance'] },
    ]);
  });

  it('uses only riskwatch_ metrics of the contract, up, and prom-client default metrics', () => {
    expect(OTHER_METRICS).toContain('process_start_time_seconds');
    const all = [...dashboardPromql(), ...rulesPromql()];
    expect(all.length).toBeGreaterThan(20);
    const used = new Set<string>();
    for (const q of all) {
      const names = promqlMetricNames(q.expr);
      expect(names.length, `${q.where}: ${q.expr}`).toBeGreaterThan(0);
      for (const name of names) {
        used.add(name);
        const known = name in RISKWATCH_METRICS || OTHER_METRICS.has(name);
        expect(known, `${q.where} uses unknown metric ${name}`).toBe(true);
      }
    }
    expect([...used]).toEqual(
      expect.arrayContaining(['riskwatch_alerts_firing', 'riskwatch_institution_metric_value', 'up']),
    );
  });

  it('matches and groups riskwatch_ metrics only on the labels they carry', () => {
    for (const q of [...dashboardPromql(), ...rulesPromql()]) {
      const names = promqlMetricNames(q.expr).filter((n) => n.startsWith('riskwatch_'));
      for (const s of promqlSelectors(q.expr).filter((s) => s.metric.startsWith('riskwatch_'))) {
        for (const label of s.labels) {
          expect(
            ['job', 'instance', ...(RISKWATCH_METRICS[s.metric] ?? [])],
            `${q.where}: ${s.metric}{${label}}`,
          ).toContain(label);
        }
      }
      // A grouping label must exist on at least one metric of the expression.
      const labels = new Set(['job', 'instance', ...names.flatMap((n) => RISKWATCH_METRICS[n] ?? [])]);
      if (names.length === 0) continue;
      for (const label of promqlGroupingLabels(q.expr))
        expect(labels, `${q.where}: by (${label})`).toContain(label);
    }
  });
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

// CI installs promtool and sets REQUIRE_PROMTOOL, so there these checks can never be skipped.
describe.skipIf(!promtool && !process.env.REQUIRE_PROMTOOL)('promtool (when installed)', () => {
  const run = (args: string[], cwd = ROOT) => {
    const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  };

  it('accepts prometheus.yml and the rules, and the rules pass their unit tests', () => {
    for (const result of [
      run(['check', 'config', PROMETHEUS_FILE]),
      run(['check', 'rules', RULES_FILE]),
      run(['test', 'rules', 'riskwatch.rules.test.yml'], repoPath('prometheus')),
    ]) {
      expect(result.ok, result.output).toBe(true);
    }
  });

  it('parses every PromQL query of the dashboard', () => {
    const values = Object.fromEntries(
      dashboard.templating.list.map((v) => [v.name, v.name === 'metric' ? 'npl_ratio' : '.*']),
    );
    const file = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-promql-')),
      'dashboard.rules.yml',
    );
    const queries = dashboardPromql();
    fs.writeFileSync(
      file,
      stringify({
        groups: [
          {
            name: 'dashboard',
            rules: queries.map((q, i) => ({
              record: `dashboard:query_${i}`,
              expr: substituteGrafanaVariables(q.expr, values),
            })),
          },
        ],
      }),
    );
    const result = run(['check', 'rules', file]);
    expect(result.ok, result.output).toBe(true);
    expect(result.output).toContain(`${queries.length} rules found`);
  });
});
