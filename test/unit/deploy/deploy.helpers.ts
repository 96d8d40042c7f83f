import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const repoPath = (rel: string) => path.join(ROOT, rel);
export const exists = (rel: string) => fs.existsSync(repoPath(rel));

/** Parses a YAML file of the repository (duplicate keys are errors) and validates it with `schema`. */
export function readYaml<S extends z.ZodType>(rel: string, schema: S): z.output<S> {
  return schema.parse(parse(fs.readFileSync(repoPath(rel), 'utf8')));
}

// --- docker-compose.yml ------------------------------------------------------------------------------

const stringList = z.array(z.string());
export const composeSchema = z.object({
  services: z.record(
    z.string(),
    z.object({
      image: z.string().optional(),
      build: z
        .union([z.string(), z.object({ context: z.string(), dockerfile: z.string().optional() })])
        .optional(),
      command: z.union([z.string(), stringList]).optional(),
      environment: z
        .union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])), stringList])
        .optional(),
      volumes: z
        .array(z.union([z.string(), z.object({ type: z.string(), source: z.string(), target: z.string() })]))
        .optional(),
      ports: stringList.optional(),
      depends_on: z.union([stringList, z.record(z.string(), z.object({ condition: z.string() }))]).optional(),
      healthcheck: z.object({ test: z.union([z.string(), stringList]) }).optional(),
    }),
  ),
  volumes: z.record(z.string(), z.unknown().nullable()).optional(),
});
export type Compose = z.output<typeof composeSchema>;
export type ComposeService = Compose['services'][string];

/** A volume entry as `{ source, target, bind }`; `bind` when the source is a path of the host. */
export interface Mount {
  readonly source: string;
  readonly target: string;
  readonly bind: boolean;
}

export function mountsOf(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((v) => {
    const [source = '', target = ''] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
    return { source, target, bind: /^(\.{1,2}\/|\/|\.$)/.test(source) };
  });
}

/** The environment of a service as a map, with compose's `${VAR:-default}` replaced by its default. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const)
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  return Object.fromEntries(
    entries.map(([k, v]) => [k, v.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name, def) => def ?? '')]),
  );
}

/**
 * Where a path seen inside a container lives in the repository, through the service's bind mounts
 * (the longest matching mount target wins); `undefined` when no bind mount covers it.
 */
export function hostPathOf(service: ComposeService, containerPath: string): string | undefined {
  const mount = mountsOf(service)
    .filter((m) => m.bind && (containerPath === m.target || containerPath.startsWith(`${m.target}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!mount) return undefined;
  return path.posix.normalize(path.posix.join(mount.source, containerPath.slice(mount.target.length)));
}

/**
 * Every host path that compose refers to and that does not exist under `root`: bind-mount sources,
 * build contexts and their Dockerfiles. Named volumes must be declared at the top level.
 */
export function missingComposeReferences(compose: Compose, root: string): string[] {
  const missing: string[] = [];
  const check = (where: string, rel: string) => {
    if (!fs.existsSync(path.resolve(root, rel))) missing.push(`${where}: ${rel}`);
  };
  for (const [name, service] of Object.entries(compose.services)) {
    for (const m of mountsOf(service)) {
      if (m.bind) check(`${name} volume`, m.source);
      else if (!(m.source in (compose.volumes ?? {})))
        missing.push(`${name} volume: named volume ${m.source} not declared`);
    }
    if (service.build !== undefined) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build;
      check(`${name} build context`, build.context);
      check(`${name} dockerfile`, path.join(build.context, build.dockerfile ?? 'Dockerfile'));
    }
  }
  return missing;
}

// --- Dockerfile and .dockerignore --------------------------------------------------------------------

/** Dockerfile instructions with continuation lines joined and comments dropped. */
export function dockerInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The source paths of a COPY or ADD instruction (flags and the destination removed). */
export function copySources(args: string): string[] {
  const parts = args.startsWith('[')
    ? (JSON.parse(args) as string[])
    : args.split(/\s+/).filter((p) => !p.startsWith('--'));
  return parts.slice(0, -1);
}

/** Whether `.dockerignore` patterns exclude `rel` (or a folder containing it) from the build context. */
export function isDockerIgnored(patterns: readonly string[], rel: string): boolean {
  const normal = path.posix.normalize(rel).replace(/^\.\/|\/$/g, '');
  const regex = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/^\/|\/$/g, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '§')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/§/g, '.*')}(/.*)?$`,
    );
  let ignored = false;
  for (const raw of patterns.map((p) => p.trim()).filter((p) => p !== '' && !p.startsWith('#'))) {
    const negate = raw.startsWith('!');
    if (regex(negate ? raw.slice(1) : raw).test(normal)) ignored = !negate;
  }
  return ignored;
}

// --- Prometheus --------------------------------------------------------------------------------------

export const prometheusConfigSchema = z.object({
  global: z.object({ scrape_interval: z.string() }).optional(),
  rule_files: stringList.default([]),
  scrape_configs: z
    .array(
      z.object({
        job_name: z.string(),
        metrics_path: z.string().optional(),
        static_configs: z.array(z.object({ targets: stringList })).optional(),
        authorization: z
          .object({ type: z.string().optional(), credentials_file: z.string().optional() })
          .optional(),
      }),
    )
    .min(1),
});

export const rulesFileSchema = z.object({
  groups: z
    .array(
      z.object({
        name: z.string(),
        rules: z
          .array(
            z.object({
              alert: z.string().optional(),
              record: z.string().optional(),
              expr: z.string().min(1),
              for: z.string().optional(),
              labels: z.record(z.string(), z.string()).optional(),
              annotations: z.record(z.string(), z.string()).optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

// --- Grafana -----------------------------------------------------------------------------------------

export const datasourcesSchema = z.object({
  apiVersion: z.literal(1),
  datasources: z
    .array(
      z.object({
        name: z.string(),
        type: z.string(),
        uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
        url: z.string(),
        user: z.string().optional(),
        jsonData: z.record(z.string(), z.unknown()).optional(),
        secureJsonData: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
});

export const dashboardProvidersSchema = z.object({
  apiVersion: z.literal(1),
  providers: z
    .array(z.object({ name: z.string(), type: z.literal('file'), options: z.object({ path: z.string() }) }))
    .min(1),
});

const datasourceRef = z.object({ type: z.string(), uid: z.string() });
const gridPos = z
  .object({
    h: z.number().int().positive(),
    w: z.number().int().min(1).max(24),
    x: z.number().int().min(0),
    y: z.number().int().min(0),
  })
  .refine((g) => g.x + g.w <= 24, 'panel sticks out of the 24-column grid');
const target = z.object({
  refId: z.string().min(1),
  datasource: datasourceRef.optional(),
  expr: z.string().optional(),
  rawSql: z.string().optional(),
  format: z.string().optional(),
});
const rowPanel = z.object({
  id: z.number().int(),
  type: z.literal('row'),
  title: z.string(),
  gridPos,
  collapsed: z.boolean().optional(),
  panels: z.array(z.unknown()).max(0, 'an expanded row holds no panels of its own'),
});
const dataPanel = z.object({
  id: z.number().int(),
  type: z.enum(['stat', 'timeseries', 'table', 'bargauge', 'gauge', 'barchart', 'piechart', 'text']),
  title: z.string().min(1),
  description: z.string().optional(),
  gridPos,
  datasource: datasourceRef,
  targets: z.array(target).min(1),
  fieldConfig: z.object({ defaults: z.record(z.string(), z.unknown()), overrides: z.array(z.unknown()) }),
  options: z.record(z.string(), z.unknown()),
  transformations: z.array(z.object({ id: z.string(), options: z.unknown() })).optional(),
});
const variable = z.object({
  type: z.enum(['query', 'custom', 'constant', 'interval', 'datasource', 'textbox']),
  name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/),
  label: z.string().optional(),
  datasource: datasourceRef.optional(),
  query: z.union([z.string(), z.record(z.string(), z.unknown())]),
  multi: z.boolean().optional(),
  includeAll: z.boolean().optional(),
  allValue: z.string().nullable().optional(),
});
export const dashboardSchema = z.object({
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  title: z.string().min(1),
  schemaVersion: z.number().int().min(36).max(45),
  time: z.object({ from: z.string(), to: z.string() }),
  panels: z.array(z.union([rowPanel, dataPanel])).min(1),
  templating: z.object({ list: z.array(variable) }),
});
export type Dashboard = z.output<typeof dashboardSchema>;
export type DashboardPanel = z.output<typeof dataPanel>;

/** The panels that query data (rows left out). */
export const dataPanels = (d: Dashboard) => d.panels.filter((p): p is DashboardPanel => p.type !== 'row');

// --- PromQL ------------------------------------------------------------------------------------------

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects, found with regular expressions: strings, label
 * matchers, ranges, numbers and grouping clauses are removed, then every identifier not called as a
 * function and not a keyword is a metric name.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(after) || PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/** `metric{label="…"}` selectors of an expression with the label names they match on. */
export function promqlSelectors(expr: string): { metric: string; labels: string[] }[] {
  return [...expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g)].map((m) => ({
    metric: m[1] ?? '',
    labels: [...(m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? ''),
  }));
}

/** Label names used in `by (…)` / `without (…)` clauses of an expression. */
export function promqlGroupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** Replaces Grafana's variables in a query by values a query language accepts, for offline checks. */
export function substituteGrafanaVariables(query: string, values: Record<string, string>): string {
  return query
    .replace(/\$__timeFilter\(([^)]*)\)/g, "$1 BETWEEN '2024-01-01T00:00:00Z' AND '2026-01-01T00:00:00Z'")
    .replace(/\$\{?__(rate_interval|interval|range)\}?/g, (_, v: string) => (v === 'range' ? '1d' : '5m'))
    .replace(
      /\$\{(\w+)(?::\w+)?\}|\$(\w+)/g,
      (whole, a?: string, b?: string) => values[a ?? b ?? ''] ?? whole,
    );
}

/** Variable names a query refers to, Grafana's own `$__…` ones left out. */
export function grafanaVariablesIn(query: string): string[] {
  return [...query.matchAll(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g)]
    .map((m) => m[1] ?? m[2] ?? '')
    .filter((v) => !v.startsWith('__'));
}
