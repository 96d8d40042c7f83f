import type { Catalog } from '../catalog/catalog.js';
import type { ProblemDetail } from '../http/app-error.js';
import type { Cell, RawObservation } from './observation.types.js';
import type { TableRow } from './table.js';

export type { TableRow } from './table.js';

/** Header aliases of the fixed columns, lower-cased: codes, English and the Chinese headers people write. */
const FIXED_COLUMNS = {
  institution: [
    'institution',
    'institution_code',
    'credit_code',
    '机构',
    '机构代码',
    '机构编码',
    '统一社会信用代码',
  ],
  period: ['period', '期间', '报告期', '报告期间', '数据期'],
  metric: ['metric', 'metric_code', '指标', '指标代码'],
  value: ['value', '值', '数值', '指标值'],
} as const;
export type FixedColumn = keyof typeof FIXED_COLUMNS;

/** The layout of a table upload, detected from its header. */
export type TableLayoutKind = 'long' | 'wide';

/** How to read the rows under a header. */
export interface TableLayout {
  readonly kind: TableLayoutKind;
  readonly header: readonly string[];
  /** Row number of the header (rows above it were titles). */
  readonly headerRow: number;
  readonly fixed: ReadonlyMap<FixedColumn, number>;
  /** Wide layout: column index → metric code. */
  readonly metricColumns: ReadonlyArray<readonly [number, string]>;
}

/** A trailing unit in ASCII or full-width parentheses, as templates write headers: `不良贷款余额（万元）`. */
const UNIT_SUFFIX = /\s*[(（][^()（）]*[)）]\s*$/;

function fixedColumnOf(header: string): FixedColumn | undefined {
  const h = header.trim().replace(UNIT_SUFFIX, '').toLowerCase();
  return (Object.keys(FIXED_COLUMNS) as FixedColumn[]).find((k) =>
    (FIXED_COLUMNS[k] as readonly string[]).includes(h),
  );
}

/** Resolves a header or cell to a metric code: the code itself, or its zh or en name, with or without a unit. */
export function resolveMetric(catalog: Catalog, text: string): string | undefined {
  const lookup = (t: string) =>
    catalog.metrics.has(t)
      ? t
      : (catalog.metricsByName.get(t) ?? catalog.metricsByName.get(t.toLowerCase()))?.code;
  const t = text.trim();
  return lookup(t) ?? (UNIT_SUFFIX.test(t) ? lookup(t.replace(UNIT_SUFFIX, '')) : undefined);
}

/** Whether a row looks like a header: it names both the institution and the period column. */
export function looksLikeHeader(row: TableRow): boolean {
  const found = new Set(row.cells.map(fixedColumnOf));
  return found.has('institution') && found.has('period');
}

/**
 * Reads a header: the long layout (`institution,period,metric,value`) when a metric or value column
 * is present, otherwise the wide layout (`institution,period,<metric>,<metric>,…`). Headers may be
 * codes or the catalog's zh/en names, with a unit in parentheses. Reports every header problem.
 */
export function interpretHeader(
  headerRow: TableRow,
  catalog: Catalog,
): { layout: TableLayout; errors: ProblemDetail[] } {
  const header = headerRow.cells.map((h) => h.trim());
  const row = headerRow.row;
  const errors: ProblemDetail[] = [];
  const fixed = new Map<FixedColumn, number>();
  header.forEach((h, i) => {
    const column = fixedColumnOf(h);
    if (column && !fixed.has(column)) fixed.set(column, i);
    else if (column)
      errors.push({
        code: 'duplicate_column',
        row,
        column: i + 1,
        field: h,
        message: `Column ${h} appears twice`,
      });
  });
  const kind: TableLayoutKind = fixed.has('metric') || fixed.has('value') ? 'long' : 'wide';
  const required: FixedColumn[] =
    kind === 'long' ? ['institution', 'period', 'metric', 'value'] : ['institution', 'period'];
  for (const c of required) {
    if (!fixed.has(c)) {
      errors.push({
        code: 'missing_column',
        row,
        field: c,
        message: `The header lacks the ${c} column (${FIXED_COLUMNS[c].join(' / ')})`,
      });
    }
  }
  const metricColumns: Array<[number, string]> = [];
  const metricSeen = new Map<string, number>();
  header.forEach((h, i) => {
    if (fixedColumnOf(h)) return;
    if (kind === 'long') {
      if (h !== '')
        errors.push({
          code: 'unknown_column',
          row,
          column: i + 1,
          field: h,
          message: `Unexpected column ${h} in the long layout`,
        });
      return;
    }
    // Spreadsheets often carry empty trailing header cells; they are not columns.
    if (h === '') return;
    const metric = resolveMetric(catalog, h);
    if (!metric) {
      errors.push({
        code: 'unknown_metric',
        row,
        column: i + 1,
        field: h,
        value: h,
        message: `Unknown metric column ${h}`,
      });
    } else if (metricSeen.has(metric)) {
      errors.push({
        code: 'duplicate_column',
        row,
        column: i + 1,
        field: h,
        message: `Column ${h} is the same metric (${metric}) as column ${(metricSeen.get(metric) ?? 0) + 1}`,
      });
    } else {
      metricSeen.set(metric, i);
      metricColumns.push([i, metric]);
    }
  });
  if (kind === 'wide' && metricColumns.length === 0 && errors.length === 0) {
    errors.push({ code: 'missing_column', row, message: 'The header names no metric columns' });
  }
  return { layout: { kind, header, headerRow: row, fixed, metricColumns }, errors };
}

/**
 * Turns one row under the header into raw observations. In the wide layout an empty cell means
 * "not reported". Returns a problem instead when the row has more non-empty cells than the header.
 */
export function rowObservations(
  layout: TableLayout,
  tableRow: TableRow,
  emit: (obs: RawObservation) => void,
): ProblemDetail | undefined {
  const { cells, row } = tableRow;
  const { header } = layout;
  if (cells.length > header.length) {
    const extra = cells.findIndex((c, i) => i >= header.length && c.trim() !== '');
    if (extra >= 0) {
      return {
        code: 'too_many_fields',
        row,
        column: extra + 1,
        message: `Row has a value in column ${extra + 1}; the header has ${header.length} columns`,
      };
    }
  }
  const cell = (index: number): Cell => ({
    text: (cells[index] ?? '').trim(),
    row,
    column: index + 1,
    field: header[index] ?? '',
  });
  const institution = cell(layout.fixed.get('institution') as number);
  const period = cell(layout.fixed.get('period') as number);
  if (layout.kind === 'long') {
    emit({
      institution,
      period,
      metric: cell(layout.fixed.get('metric') as number),
      value: cell(layout.fixed.get('value') as number),
    });
    return undefined;
  }
  for (const [index, metric] of layout.metricColumns) {
    const value = cell(index);
    if (value.text === '') continue;
    emit({ institution, period, metric: { ...value, text: metric }, value });
  }
  return undefined;
}
