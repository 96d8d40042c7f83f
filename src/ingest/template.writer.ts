import type ExcelJS from 'exceljs';
import type { Template, TemplateFormat } from './template.js';

/** The Content-Type of each format. */
export const TEMPLATE_MEDIA_TYPES: Readonly<Record<TemplateFormat, string>> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** `riskwatch-template-<type>-<period>-<lang>.<format>`: ASCII, since type codes are lower_snake_case. */
export function templateFileName(template: Template, format: TemplateFormat): string {
  return `riskwatch-template-${template.type.code}-${template.period}-${template.lang}.${format}`;
}

const BOM = '\uFEFF';

/** Quotes a CSV field when it holds a quote, a separator, a line break or edge spaces (RFC 4180). */
function csvField(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Writes the template as CSV: UTF-8 with a BOM (without one, Chinese Excel reads UTF-8 as GBK),
 * CRLF line ends, the header and the prefilled row. No notes: CSV has one sheet.
 */
export function templateToCsv(template: Template): Buffer {
  const lines = [template.columns.map((c) => c.header), template.prefill].map(
    (row) => `${row.map(csvField).join(',')}\r\n`,
  );
  return Buffer.from(BOM + lines.join(''), 'utf8');
}

const WIDE_CHAR =
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;

/** Display width of a text: CJK and full-width characters take two columns. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += WIDE_CHAR.test(ch) ? 2 : 1;
  return width;
}

const columnWidth = (texts: readonly string[], min: number, max: number) =>
  Math.min(max, Math.max(min, ...texts.map(displayWidth)) + 2);

// Plain numbers: no thousands separator and no percent format, which the upload would reject once the
// sheet is saved as CSV; up to four decimals survive that save.
const NUMBER_FORMAT = '0.00##';
const COUNT_FORMAT = '0';
const TEXT_FORMAT = '@';
const NOT_THIS_PERIOD: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE7E6E6' } };

/**
 * Writes the template as an XLSX workbook: sheet 1 the header (bold, frozen) and the prefilled row,
 * with the institution and period columns as text (so Excel keeps `2024-06` rather than turning it
 * into a date) and metric columns as plain numbers; sheet 2 the notes on every metric.
 * Quarterly columns are shaded in months that are not a quarter's last.
 */
export async function templateToXlsx(template: Template, generatedAt: Date): Promise<Buffer> {
  // Loaded on first use, as for reading: most processes never write a workbook.
  const { default: Excel } = await import('exceljs');
  const workbook = new Excel.Workbook();
  workbook.creator = 'RiskWatch';
  workbook.created = generatedAt;
  workbook.modified = generatedAt;

  const data = workbook.addWorksheet(template.sheetNames.data, {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  data.columns = template.columns.map((c) => ({
    header: c.header,
    width: columnWidth([c.header], c.kind === 'metric' ? 14 : 12, 48),
    style: {
      numFmt: c.kind !== 'metric' ? TEXT_FORMAT : c.metric.unit === 'count' ? COUNT_FORMAT : NUMBER_FORMAT,
    },
  }));
  const header = data.getRow(1);
  header.font = { bold: true };
  template.columns.forEach((c, i) => {
    if (c.kind === 'metric' && !c.expected) header.getCell(i + 1).fill = NOT_THIS_PERIOD;
  });
  const prefilled = data.getRow(2);
  template.prefill.forEach((text, i) => {
    // Empty cells stay absent and take the column's number format when typed into.
    if (text !== '') prefilled.getCell(i + 1).value = text;
  });

  const notes = workbook.addWorksheet(template.sheetNames.notes, {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  const noteRows = template.notes.map((n) => [
    n.code,
    n.name,
    n.unit,
    n.frequency,
    n.range,
    n.formula,
    n.remark,
  ]);
  notes.columns = template.noteHeaders.map((h, i) => ({
    header: h,
    width: columnWidth([h, ...noteRows.map((r) => r[i] ?? '')], 8, 60),
    style: { numFmt: TEXT_FORMAT },
  }));
  notes.getRow(1).font = { bold: true };
  notes.addRows(noteRows);
  notes.addRow([]);
  for (const line of template.instructions) notes.addRow([line]);

  return Buffer.from(await workbook.xlsx.writeBuffer());
}
