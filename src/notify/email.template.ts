import { formatWallClock } from '../filing/zoned-day.js';
import { whoOf } from './digest.subject.js';
import { type EmailStrings, STRINGS, UNIT_LABELS } from './email.strings.js';
import type { AlertPayload } from './notification.payload.js';
import type { Lang } from './routes.js';

/** A rendered e-mail, ready for a mailer. */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Settings that belong to the deployment, not to the snapshot. */
export interface RenderOptions {
  /** Base URL of the service, for the link to the alert. */
  readonly publicUrl: string;
  /** Zone for the transition time, e.g. Asia/Shanghai (the regulator's). */
  readonly timeZone: string;
}

const SEVERITY_COLOURS = { info: '#1565c0', warning: '#e65100', critical: '#b71c1c' } as const;
const RESOLVED_COLOUR = '#2e7d32';

/** Escapes text for HTML element content and quoted attribute values. */
/** What every notification's HTML body holds, in one layout. */
export interface HtmlBody {
  readonly locale: string;
  readonly subject: string;
  readonly heading: string;
  readonly colour: string;
  /** Already-escaped HTML under the heading, or ''. */
  readonly intro: string;
  readonly rows: ReadonlyArray<readonly [string, string]>;
  readonly sections?: ReadonlyArray<{
    readonly title: string;
    readonly items: readonly string[];
    readonly note?: string | undefined;
  }>;
  readonly link: string;
  readonly details: string;
  readonly footer: string;
}

/** The HTML body shared by alert and receipt e-mails: heading, a label/value table, lists, link, footer. */
export function htmlBody(b: HtmlBody): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="${b.locale}"><head><meta charset="utf-8"><title>${escapeHtml(b.subject)}</title></head>`,
    '<body style="font-family:sans-serif;font-size:14px;color:#222">',
    `<h2 style="color:${b.colour};margin:0 0 8px">${escapeHtml(b.heading)}</h2>`,
    b.intro,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...b.rows.map(
      ([label, value]) =>
        `<tr><th align="left" style="padding-right:16px;white-space:nowrap">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    ),
    '</table>',
    ...(b.sections ?? []).flatMap((section) => [
      `<h3 style="margin:16px 0 4px">${escapeHtml(section.title)}</h3>`,
      `<ul>${section.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`,
      section.note ? `<p>${escapeHtml(section.note)}</p>` : '',
    ]),
    `<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.details)}</a></p>`,
    `<p style="color:#888;font-size:12px">${escapeHtml(b.footer)}</p>`,
    '</body></html>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** The link to an alert in the service. */
export function alertLink(publicUrl: string, alertId: number): string {
  return `${publicUrl.replace(/\/+$/, '')}/api/v1/alerts/${alertId}`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders an alert e-mail from its outbox snapshot, in zh-CN (default) or en. Pure: the time zone
 * and base URL are passed in, and the same input always gives the same output.
 */
export function renderEmail(payload: AlertPayload, lang: Lang, options: RenderOptions): RenderedEmail {
  const s = STRINGS[lang];
  const severity = s.severity[payload.severity];
  const kind = s.kind[payload.kind];
  const who = whoOf(payload, lang);
  const link = alertLink(options.publicUrl, payload.alertId);
  const summary = payload.summary[lang];
  // Subjects are one line; a stray newline in a name must not break the header.
  const subject = `[RiskWatch][${severity}][${kind}] ${who} — ${payload.metric.name[lang]}`.replace(
    /\s+/g,
    ' ',
  );
  const rows = detailRows(payload, lang, s, options.timeZone);
  const heading = s.heading(kind, severity);

  const text = [
    heading,
    ...(summary ? [summary] : []),
    '',
    ...rows.map(([label, value]) => `${label}${lang === 'zh' ? '：' : ': '}${value}`),
    `${s.details}${lang === 'zh' ? '：' : ': '}${link}`,
    '',
    '-- ',
    s.footer,
    '',
  ].join('\n');

  const colour = payload.kind === 'resolved' ? RESOLVED_COLOUR : SEVERITY_COLOURS[payload.severity];
  const html = htmlBody({
    locale: s.locale,
    subject,
    heading,
    colour,
    intro: summary ? `<p>${escapeHtml(summary)}</p>` : '',
    rows,
    link,
    details: s.details,
    footer: s.footer,
  });

  return { subject, text, html };
}

/** The label/value lines of one alert, shared by the text and HTML bodies (and digests), so all say the same. */
export function detailRows(
  p: AlertPayload,
  lang: Lang,
  s: EmailStrings,
  timeZone: string,
): [string, string][] {
  if (p.filing) return filingRows(p, p.filing.dueDate, lang, s, timeZone);
  const custom = p.metric.unit ? ` ${p.metric.unit}` : '';
  const unit = UNIT_LABELS[p.metric.unit]?.[lang] ?? { suffix: custom, diff: custom };
  const [value, threshold, diff] = formatNumbers([p.value, p.threshold, p.value - p.threshold], s.locale);
  const signedDiff = p.value > p.threshold ? `+${diff}` : diff;
  return [
    institutionRow(p, s),
    [s.metric, `${p.metric.name[lang]}${s.paren(p.metric.code)}`],
    [
      s.value,
      `${value}${unit.suffix}${s.paren(`${s.threshold} ${threshold}${unit.suffix}${s.comma}${s.difference} ${signedDiff}${unit.diff}`)}`,
    ],
    [s.period, p.period],
    [
      s.duration,
      p.kind === 'resolved' ? s.resolvedSince(p.firstPeriod, p.period) : s.since(p.firstPeriod, p.periods),
    ],
    [s.source, p.source],
    [s.rule, p.ruleId],
    [s.time, `${formatTime(new Date(p.at), timeZone)}${s.paren(timeZone)}`],
  ];
}

function institutionRow(p: AlertPayload, s: EmailStrings): [string, string] {
  const inst = p.institution;
  if (inst) return [s.institution, `${inst.name}${s.paren(inst.code)}${s.comma}${inst.county}`];
  const region = p.region ? `${p.region.name[p.lang]}${s.paren(p.region.key)}` : '';
  return [s.institution, region ? `${s.regional}${s.comma}${region}` : s.regional];
}

/**
 * A missing filing has no metric value or threshold: it says what is missing, for which period, when it
 * was due and how many days it is overdue (or, resolved, how late it came).
 */
function filingRows(
  p: AlertPayload,
  dueDate: string | null,
  lang: Lang,
  s: EmailStrings,
  timeZone: string,
): [string, string][] {
  const days = Math.max(0, Math.round(p.value));
  return [
    institutionRow(p, s),
    [s.filing, p.metric.name[lang]],
    [s.period, p.period],
    [s.due, dueDate ? s.endOfDay(dueDate, timeZone) : s.unknownDue],
    [s.overdue, p.kind === 'resolved' ? s.filedLate(days) : s.days(days)],
    [s.source, p.source],
    [s.rule, p.ruleId],
    [s.time, `${formatTime(new Date(p.at), timeZone)}${s.paren(timeZone)}`],
  ];
}

/**
 * Formats numbers with two decimals, or more when two decimals would make a breach look like no
 * change at all (5.001 vs 5 must not read "5 vs 5").
 */
function formatNumbers(values: readonly number[], locale: string): string[] {
  for (let digits = 2; ; digits++) {
    const format = new Intl.NumberFormat(locale, { maximumFractionDigits: digits });
    const out = values.map((v) => format.format(v));
    const [a, b] = values;
    if (digits >= 6 || a === b || out[0] !== out[1]) return out;
  }
}

/** `YYYY-MM-DD HH:mm` in the given zone, whatever the locale's own conventions. */
export function formatTime(at: Date, timeZone: string): string {
  return formatWallClock(at, timeZone);
}
