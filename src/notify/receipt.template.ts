import { RECEIPT_STRINGS, type ReceiptStrings } from './email.strings.js';
import {
  escapeHtml,
  formatTime,
  htmlBody,
  type RenderedEmail,
  type RenderOptions,
} from './email.template.js';
import type { ReceiptPayload } from './notification.payload.js';
import type { Lang } from './routes.js';

/** A titled list in the body: the versions written, the warnings. */
interface Section {
  readonly title: string;
  readonly items: readonly string[];
  readonly note?: string;
}

/** File names come from uploaders: one line, no control characters, and not a whole screen long. */
function oneLine(s: string, max = 80): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const flat = s.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Renders the receipt e-mail of an accepted upload, in zh-CN (default) or en. A Chinese receipt also
 * carries a one-line English summary under its heading: an API key has no language of its own. Pure:
 * the time zone and base URL are passed in, and the same input always gives the same output.
 */
export function renderReceiptEmail(payload: ReceiptPayload, options: RenderOptions): RenderedEmail {
  const lang: Lang = payload.lang;
  const s = RECEIPT_STRINGS[lang];
  const r = payload.receipt;
  const file = oneLine(r.file_name ?? s.noFileName);
  const link = `${options.publicUrl.replace(/\/+$/, '')}/api/v1/uploads/${r.upload_id}`;
  const { submissions, warnings } = r.counts;
  const subject = s.subject(r.upload_id, file, submissions, warnings);
  const heading = s.heading(file);
  const english =
    lang === 'zh' ? RECEIPT_STRINGS.en.summary(r.upload_id, file, submissions, warnings, link) : '';
  const rows = detailRows(payload, s, options.timeZone);
  const sections = bodySections(payload, s, link);
  const sep = lang === 'zh' ? '：' : ': ';

  const text = [
    heading,
    ...(english ? [english] : []),
    '',
    ...rows.map(([label, value]) => `${label}${sep}${value}`),
    ...sections.flatMap((section) => [
      '',
      `${section.title}${sep}`,
      ...section.items.map((item) => `- ${item}`),
      ...(section.note ? [section.note] : []),
    ]),
    '',
    `${s.details}${sep}${link}`,
    '',
    '-- ',
    s.footer,
    '',
  ].join('\n');

  const html = htmlBody({
    locale: s.locale,
    subject,
    heading,
    colour: '#1565c0',
    intro: english ? `<p lang="en" style="color:#555">${escapeHtml(english)}</p>` : '',
    rows,
    sections,
    link,
    details: s.details,
    footer: s.footer,
  });

  return { subject, text, html };
}

/** The label/value lines shared by the text and HTML bodies, so both always say the same. */
function detailRows(p: ReceiptPayload, s: ReceiptStrings, timeZone: string): [string, string][] {
  const r = p.receipt;
  return [
    [s.receiptNo, `#${r.upload_id}`],
    [s.receivedAt, `${formatTime(new Date(r.received_at), timeZone)}${s.paren(timeZone)}`],
    [s.uploadedBy, oneLine(r.uploaded_by)],
    [s.file, oneLine(r.file_name ?? s.noFileName, 200)],
    [s.format, r.format],
    ['SHA-256', r.sha256],
    [s.institutions, String(r.institutions)],
    [s.periods, r.periods.join(s.listSeparator)],
    [s.counts, s.countsValue(r.counts)],
  ];
}

/** The versions written and the warnings, each the first few with a count of the rest. */
function bodySections(p: ReceiptPayload, s: ReceiptStrings, link: string): Section[] {
  const r = p.receipt;
  const rest = (total: number, listed: number) => (total > listed ? [s.more(total - listed)] : []);
  const sections: Section[] = [];
  if (r.submissions.length > 0) {
    sections.push({
      title: s.versions,
      items: [
        ...r.submissions.map((v) => s.version(v.institution, v.period, v.version, v.late)),
        ...rest(r.counts.submissions, r.submissions.length),
      ],
    });
  }
  if (r.warnings.length > 0) {
    sections.push({
      title: r.explanation_required ? s.warningsToExplain : s.warningsExplained,
      items: [
        ...r.warnings.map((w) => `${s.at(w.row, w.column)}[${w.code}] ${w.message}`),
        ...rest(r.counts.warnings, r.warnings.length),
      ],
      ...(r.explanation_required ? { note: s.explainHow(`${link}/explanation`) } : {}),
    });
  }
  return sections;
}
