import path from 'node:path';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../alerts/alert.types.js';
import { type FileResult, loadYamlFile } from '../config/yaml-file.js';
import { type BusinessCalendar, weekday } from './business-days.js';
import { durationSchema } from './duration.js';

/** Languages an e-mail can be rendered in; zh-CN is the service default. */
export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

/**
 * The outbox route of upload receipt e-mails: their `route` label in `riskwatch_notifications_total`,
 * so no route of `recipients.yaml` may take the name.
 */
export const RECEIPT_ROUTE = 'receipt';

const list = z.array(z.string().trim().min(1)).min(1, 'must list at least one value, or be left out');

/** The longest `group_wait` a route may set. */
export const MAX_GROUP_WAIT_MS = 86_400_000;

/** What a route may group its alerts by: each group gets one digest e-mail (docs/notifications.md). */
export const GROUP_LABELS = ['institution', 'county', 'type', 'rule', 'severity'] as const;
export type GroupLabel = (typeof GROUP_LABELS)[number];

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:mm, such as 09:30');
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day YYYY-MM-DD')
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    'is not a calendar day',
  );

const routeSchema = z.strictObject({
  // Route names become part of the outbox idempotency key and the Message-ID, so keep them plain.
  name: z
    .string()
    .max(64)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - or _')
    .refine((name) => name !== RECEIPT_ROUTE, `${RECEIPT_ROUTE} is reserved for upload receipts`),
  match: z
    .strictObject({
      severities: z.array(z.enum(SEVERITIES)).min(1).optional(),
      types: list.optional(),
      counties: list.optional(),
      rules: list.optional(),
    })
    .default({}),
  to: z.array(z.email('must be an e-mail address')).min(1),
  lang: z.enum(LANGS).default('zh'),
  // Alerts of one institution arrive together (one upload, one scheduled run): one digest for them.
  group_by: z.array(z.enum(GROUP_LABELS)).min(1).default(['institution']),
  // Alertmanager's default; long enough to gather a burst of uploads, short for a supervisor.
  group_wait: durationSchema('1d').default(30_000),
  send_resolved: z.boolean().default(true),
  /** Reminders of firing alerts nobody acknowledged, on working days at a local time; none when absent. */
  reminders: z
    .strictObject({
      at: localTime,
      severities: z.array(z.enum(SEVERITIES)).min(1).default(['critical']),
    })
    .optional(),
  /** A summary of the month before, on the first working day of each month at `at` (`true`: 09:00). */
  monthly_summary: z
    .union([z.boolean(), z.strictObject({ at: localTime.default('09:00') })])
    .default(false)
    .transform((v) => (v === true ? { at: '09:00' } : v === false ? undefined : v)),
});

/** One recipient route from `recipients.yaml`. */
export type Route = z.output<typeof routeSchema>;

/** Known institution types and counties (a `Catalog` fits), used to catch typos in `match`. */
export interface RouteVocabulary {
  readonly types: ReadonlyMap<string, unknown>;
  readonly counties: ReadonlyMap<string, unknown>;
}

/**
 * The schema of `recipients.yaml`. Cross-entry checks run inside zod so every problem, duplicate
 * names included, is reported in one pass with its line. Top-level `x-` keys hold YAML anchors.
 */
export function recipientsFileSchema(vocabulary?: RouteVocabulary) {
  return z.preprocess(
    (raw) =>
      raw && typeof raw === 'object' && !Array.isArray(raw)
        ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')))
        : raw,
    z
      .strictObject({
        routes: z.array(routeSchema),
        calendar: z
          .strictObject({
            holidays: z.array(day).default([]),
            workdays: z.array(day).default([]),
          })
          .default({ holidays: [], workdays: [] }),
      })
      .superRefine((file, ctx) => {
        const holidays = new Set(file.calendar.holidays);
        file.calendar.workdays.forEach((date, i) => {
          const dow = weekday(date);
          if (holidays.has(date))
            ctx.addIssue({
              code: 'custom',
              path: ['calendar', 'workdays', i],
              message: `${date} is also listed as a holiday`,
            });
          else if (dow !== 0 && dow !== 6)
            ctx.addIssue({
              code: 'custom',
              path: ['calendar', 'workdays', i],
              message: `${date} is a weekday, a working day anyway: list only the weekend days worked (调休)`,
            });
        });
        const seen = new Set<string>();
        file.routes.forEach((route, i) => {
          if (seen.has(route.name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['routes', i, 'name'],
              message: `duplicate route name ${route.name}`,
            });
          }
          seen.add(route.name);
          const to = new Set<string>();
          route.to.forEach((address, j) => {
            const key = address.toLowerCase();
            if (to.has(key))
              ctx.addIssue({
                code: 'custom',
                path: ['routes', i, 'to', j],
                message: `duplicate address ${address}`,
              });
            to.add(key);
          });
          if (!vocabulary) return;
          const unknown = (field: 'types' | 'counties', what: string, known: ReadonlyMap<string, unknown>) =>
            route.match[field]?.forEach((value, j) => {
              if (!known.has(value)) {
                ctx.addIssue({
                  code: 'custom',
                  path: ['routes', i, 'match', field, j],
                  message: `unknown ${what} ${value}`,
                });
              }
            });
          unknown('types', 'institution type', vocabulary.types);
          unknown('counties', 'county', vocabulary.counties);
        });
      }),
  );
}

/** What `recipients.yaml` configures: the routes and the working-day calendar of their schedules. */
export interface Recipients {
  readonly routes: Route[];
  readonly calendar: BusinessCalendar;
}

/**
 * Loads and validates `recipients.yaml` from a rules directory, reporting every problem at once.
 * Never throws for bad content; pass the catalog to reject unknown institution types and counties,
 * which would otherwise silently never match.
 */
export function loadRecipients(rulesDir: string, vocabulary?: RouteVocabulary): FileResult<Recipients> {
  const parsed = loadYamlFile(path.join(rulesDir, 'recipients.yaml'), recipientsFileSchema(vocabulary));
  if (!parsed.ok) return parsed;
  const { routes, calendar } = parsed.value;
  return {
    ok: true,
    value: {
      routes,
      calendar: { holidays: new Set(calendar.holidays), workdays: new Set(calendar.workdays) },
    },
  };
}

/** The routes of `recipients.yaml`; see {@link loadRecipients}. */
export function loadRoutes(rulesDir: string, vocabulary?: RouteVocabulary): FileResult<Route[]> {
  const loaded = loadRecipients(rulesDir, vocabulary);
  return loaded.ok ? { ok: true, value: loaded.value.routes } : loaded;
}

/** What a route matches on. `institutionType`/`county` are absent for regional alerts. */
export interface RouteSubject {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly institutionType?: string | undefined;
  readonly county?: string | undefined;
}

/** What routes match of an alert: its rule and severity, and its institution's type and county (none for a region). */
export function routeSubjectOf(
  ruleId: string,
  severity: Severity,
  institution: { readonly type: string; readonly county: string } | null | undefined,
): RouteSubject {
  return { ruleId, severity, institutionType: institution?.type, county: institution?.county };
}

/**
 * The routes whose every given criterion matches, in file order. Every matching route gets the
 * notification (no first-match-wins), so a leadership route can sit beside a catch-all one.
 */
export function matchRoutes(routes: readonly Route[], subject: RouteSubject): Route[] {
  const accepts = (allowed: readonly string[] | undefined, value: string | undefined) =>
    allowed === undefined || (value !== undefined && allowed.includes(value));
  return routes.filter(
    (r) =>
      accepts(r.match.severities, subject.severity) &&
      accepts(r.match.types, subject.institutionType) &&
      accepts(r.match.counties, subject.county) &&
      accepts(r.match.rules, subject.ruleId),
  );
}
