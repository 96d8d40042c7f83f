import { SEVERITIES } from '../alerts/alert.types.js';
import { DIGEST_STRINGS } from './digest.strings.js';
import { STRINGS } from './email.strings.js';
import { htmlBody, type RenderedEmail, type RenderOptions } from './email.template.js';
import type { SummaryPayload } from './notification.payload.js';

const sum = (c: SummaryPayload['fired']) => SEVERITIES.reduce((n, s) => n + c[s], 0);

/** Renders a route's monthly summary: counts by severity, new and resolved, top institutions. Pure. */
export function renderSummary(p: SummaryPayload, options: RenderOptions): RenderedEmail {
  const s = STRINGS[p.lang];
  const d = DIGEST_STRINGS[p.lang];
  const subject = d.summarySubject(p.month, sum(p.fired), sum(p.firing));
  const heading = d.summaryHeading(p.month);
  const rows: [string, string][] = [
    [d.fired, `${sum(p.fired)}${s.paren(d.bySeverity(p.fired, s.severity))}`],
    [d.resolved, String(p.resolved)],
    [d.firingAtEnd, `${sum(p.firing)}${s.paren(d.bySeverity(p.firing, s.severity))}`],
  ];
  const top = p.top.map((t) => d.topItem(t.name, t.code, t.alerts));
  const link = `${options.publicUrl.replace(/\/+$/, '')}/api/v1/alerts?state=firing`;
  const text = [
    heading,
    '',
    ...rows.map(([label, value]) => `${label}${d.separator}${value}`),
    '',
    `${d.top}${d.separator}${top.length === 0 ? d.none : ''}`,
    ...top.map((t) => `  - ${t}`),
    '',
    `${d.listLink}${d.separator}${link}`,
    '',
    '-- ',
    s.footer,
    '',
  ].join('\n');
  const html = htmlBody({
    locale: s.locale,
    subject,
    heading,
    colour: '#222',
    intro: '',
    rows,
    sections: [{ title: d.top, items: top.length === 0 ? [d.none] : top }],
    link,
    details: d.listLink,
    footer: s.footer,
  });
  return { subject, text, html };
}
