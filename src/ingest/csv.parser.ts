import { parse } from 'csv-parse/sync';
import type { Catalog } from '../catalog/catalog.js';
import type { ProblemDetail } from '../http/app-error.js';
import type { Cell, RawObservation } from './observation.types.js';

/** Header aliases of the fixed columns, lower-cased: codes, English and the Chinese headers people write. */
const FIXED_COLUMNS = {
  institution: ['institution', 'institution_code', '机构', '机构代码', '机构编码'],
  period: ['period', '期间', '报告期', '报告期间', '数据期'],
  metric: ['metric', 'metric_code', '指标', '指标代码'],
  value: ['value', '值', '数值', '指标值'],
} as const;
type FixedColumn = keyof typeof FIXED_COLUMNS;

/** The layout of a CSV upload, detected from its header. */
export type CsvLayout = 'long' | 'wide';

export interface CsvParseResult {
  readonly layout?: CsvLayout;
  readonly observations: RawObservation[];
  readonly rowCount: number;
  readonly errors: ProblemDetail[];
}

/** Limits that keep a hostile file from exhausting memory. */
const MAX_RECORD_BYTES = 64 * 1024;

function fixedColumnOf(header: string): FixedColumn | undefined {
  const h = header.trim().toLowerCase();
  return (Object.keys(FIXED_COLUMNS) as FixedColumn[]).find((k) =>
    (FIXED_COLUMNS[k] as readonly string[]).includes(h),
  );
}

/** Resolves a header or cell to a metric code: the code itself, or its zh or en name. */
export function resolveMetric(catalog: Catalog, text: string): string | undefined {
  const t = text.trim();
  if (catalog.metrics.has(t)) return t;
  return (catalog.metricsByName.get(t) ?? catalog.metricsByName.get(t.toLowerCase()))?.code;
}

/**
 * Parses CSV text in the long layout (`institution,period,metric,value`) or the wide layout
 * (`institution,period,<metric>,<metric>,…`), detected from the header. Headers may be codes or the
 * catalog's zh/en names. Reports layout problems with row and column; never throws for content.
 */
export function parseCsv(text: string, catalog: Catalog): CsvParseResult {
  let records: string[][];
  try {
    records = parse(text, {
      skip_empty_lines: true,
      relax_column_count: true,
      max_record_size: MAX_RECORD_BYTES,
      trim: true,
    });
  } catch (error) {
    const e = error as { code?: string; lines?: number; message: string };
    return {
      observations: [],
      rowCount: 0,
      errors: [{ code: 'malformed_csv', ...(e.lines ? { row: e.lines } : {}), message: e.message }],
    };
  }
  const [header, ...body] = records;
  if (!header || body.length === 0) {
    return {
      observations: [],
      rowCount: 0,
      errors: [{ code: 'empty_file', message: 'The file has no data rows under a header' }],
    };
  }

  const errors: ProblemDetail[] = [];
  const fixed = new Map<FixedColumn, number>();
  const metricColumns = new Map<number, string>();
  header.forEach((h, i) => {
    const column = fixedColumnOf(h);
    if (column && !fixed.has(column)) fixed.set(column, i);
    else if (column)
      errors.push({
        code: 'duplicate_column',
        row: 1,
        column: i + 1,
        field: h,
        message: `Column ${h} appears twice`,
      });
  });
  const layout: CsvLayout = fixed.has('metric') || fixed.has('value') ? 'long' : 'wide';
  const required: FixedColumn[] =
    layout === 'long' ? ['institution', 'period', 'metric', 'value'] : ['institution', 'period'];
  for (const c of required) {
    if (!fixed.has(c)) {
      errors.push({
        code: 'missing_column',
        row: 1,
        field: c,
        message: `The header lacks the ${c} column (${FIXED_COLUMNS[c].join(' / ')})`,
      });
    }
  }
  header.forEach((h, i) => {
    if (fixedColumnOf(h)) return;
    if (layout === 'long') {
      if (h !== '')
        errors.push({
          code: 'unknown_column',
          row: 1,
          column: i + 1,
          field: h,
          message: `Unexpected column ${h} in the long layout`,
        });
      return;
    }
    const metric = resolveMetric(catalog, h);
    if (metric) metricColumns.set(i, metric);
    else
      errors.push({
        code: 'unknown_metric',
        row: 1,
        column: i + 1,
        field: h,
        value: h,
        message: `Unknown metric column ${h}`,
      });
  });
  if (layout === 'wide' && metricColumns.size === 0 && fixed.size === 2) {
    errors.push({ code: 'missing_column', row: 1, message: 'The header names no metric columns' });
  }
  if (errors.length > 0) return { layout, observations: [], rowCount: body.length, errors };

  const observations: RawObservation[] = [];
  const cell = (record: string[], row: number, index: number): Cell => ({
    text: record[index] ?? '',
    row,
    column: index + 1,
    field: header[index] ?? '',
  });
  body.forEach((record, i) => {
    const row = i + 2;
    if (record.length > header.length) {
      errors.push({
        code: 'too_many_fields',
        row,
        column: header.length + 1,
        message: `Row has ${record.length} fields; the header has ${header.length}`,
      });
      return;
    }
    const institution = cell(record, row, fixed.get('institution') as number);
    const period = cell(record, row, fixed.get('period') as number);
    if (layout === 'long') {
      observations.push({
        institution,
        period,
        metric: cell(record, row, fixed.get('metric') as number),
        value: cell(record, row, fixed.get('value') as number),
      });
      return;
    }
    for (const [index, metric] of metricColumns) {
      const value = cell(record, row, index);
      // An empty cell in the wide layout means "not reported", not an error.
      if (value.text === '') continue;
      observations.push({ institution, period, metric: { ...value, text: metric }, value });
    }
  });
  return { layout, observations, rowCount: body.length, errors };
}
