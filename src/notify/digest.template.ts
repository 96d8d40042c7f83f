import { DIGEST_STRINGS } from './digest.strings.js';
import { digestSubject, whoOf } from './digest.subject.js';
import { STRINGS } from './email.strings.js';
import {
  alertLink,
  detailRows,
  escapeHtml,
  formatTime,
  type RenderedEmail,
  type RenderOptions,
} from './email.template.js';
import type { AlertPayload, DigestPayload } from './notification.payload.js';
import type { Lang } from './routes.js';

const SEVERITY_COLOURS = { info: '#1565c0', warning: '#e65100', critical: '#b71c1c' } as const;
const RESOLVED_COLOUR = '#2e7d32';

interface Section {
  readonly title: string;
  readonly colour: string;
  readonly summary: string;
  readonly rows: [string, string][];
  readonly link: string;
}

function sectionOf(p: AlertPayload, lang: Lang, options: RenderOptions): Section {
  const s = STRINGS[lang];
  const rows = detailRows(p, lang, s, options.timeZone);
  if (p.firedAt)
    rows.push([
      DIGEST_STRINGS[lang].firingSince,
      `${formatTime(new Date(p.firedAt), options.timeZone)}${s.paren(options.timeZone)}`,
    ]);
  return {
    title: `${whoOf(p, lang)} — ${p.metric.name[lang]}${s.paren(`${s.severity[p.severity]}${s.comma}${s.kind[p.kind]}`)}`,
    colour: p.kind === 'resolved' ? RESOLVED_COLOUR : SEVERITY_COLOURS[p.severity],
    summary: p.summary[lang],
    rows,
    link: alertLink(options.publicUrl, p.alertId),
  };
}

/**
 * Renders a digest (alert changes of one route group, or a reminder) as one e-mail with a text and an
 * HTML part saying the same, in zh-CN or en: a subject with the highest severity, the count and the
 * institutions, then every alert with institution, metric, value against threshold and margin,
 * periods, since when, legal basis and a link. Pure.
 */
export function renderDigest(p: DigestPayload, options: RenderOptions): RenderedEmail {
  const lang = p.lang;
  const s = STRINGS[lang];
  const d = DIGEST_STRINGS[lang];
  const subject = digestSubject(p.alerts, p.mode, lang);
  const resolved = p.alerts.filter((a) => a.kind === 'resolved').length;
  const active = p.alerts.length - resolved;
  const intro = p.mode === 'reminder' ? d.reminderIntro(p.alerts.length) : d.intro(active, resolved);
  const heading = d.heading(p.mode);
  const sections = p.alerts.map((a) => sectionOf(a, lang, options));
  const colon = d.separator;

  const text = [
    heading,
    intro,
    '',
    ...sections.flatMap((section, i) => [
      `${i + 1}. ${section.title}`,
      ...(section.summary ? [`   ${section.summary}`] : []),
      ...section.rows.map(([label, value]) => `   ${label}${colon}${value}`),
      `   ${s.details}${colon}${section.link}`,
      '',
    ]),
    '-- ',
    s.footer,
    '',
  ].join('\n');

  const html = [
    '<!DOCTYPE html>',
    `<html lang="${s.locale}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family:sans-serif;font-size:14px;color:#222">',
    `<h2 style="margin:0 0 8px">${escapeHtml(heading)}</h2>`,
    `<p>${escapeHtml(intro)}</p>`,
    ...sections.map((section) =>
      [
        `<h3 style="color:${section.colour};margin:16px 0 4px">${escapeHtml(section.title)}</h3>`,
        section.summary ? `<p style="margin:0 0 4px">${escapeHtml(section.summary)}</p>` : '',
        '<table cellpadding="4" style="border-collapse:collapse">',
        ...section.rows.map(
          ([label, value]) =>
            `<tr><th align="left" style="padding-right:16px;white-space:nowrap">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
        ),
        '</table>',
        `<p style="margin:4px 0 0"><a href="${escapeHtml(section.link)}">${escapeHtml(s.details)}</a></p>`,
      ]
        .filter(Boolean)
        .join('\n'),
    ),
    `<p style="color:#888;font-size:12px">${escapeHtml(s.footer)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { subject, text, html };
}
