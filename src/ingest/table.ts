import { AppError } from '../http/app-error.js';

/** One row of a table (CSV record or sheet row): its 1-based row number and its cells' text. */
export interface TableRow {
  /** The 1-based row number in the file or sheet (empty rows are skipped, so numbers may jump). */
  readonly row: number;
  /** cells[i] is column i+1, '' when empty. */
  readonly cells: readonly string[];
}

/** Limits that keep a hostile file from exhausting memory or time; each names itself when exceeded. */
export interface TableLimits {
  /** Most non-empty rows, the header included. */
  readonly maxRows: number;
  /** Highest column that may hold a value. */
  readonly maxColumns: number;
  /**
   * Most values (non-empty metric cells) in one upload: what memory is proportional to, since a wide
   * row may hold a thousand. Unbounded when absent.
   */
  readonly maxValues?: number;
}

/** 413: reading stops at the first row past the limit. */
export function tooManyRows(limit: number, row?: number): AppError {
  const message = `The file has more than ${limit} rows (MAX_UPLOAD_ROWS); split it into smaller files`;
  return new AppError(413, 'too_many_rows', message, [
    {
      code: 'too_many_rows',
      ...(row ? { row } : {}),
      message,
      limit: { name: 'MAX_UPLOAD_ROWS', value: limit },
    },
  ]);
}

/** 422: a row with a value beyond the last column allowed. */
export function tooManyColumns(limit: number, row: number, column?: number): AppError {
  const message = `Row ${row} has a value beyond ${limit} columns (MAX_UPLOAD_COLUMNS)`;
  return AppError.unprocessable('too_many_columns', message, [
    {
      code: 'too_many_columns',
      row,
      ...(column ? { column } : {}),
      message,
      limit: { name: 'MAX_UPLOAD_COLUMNS', value: limit },
    },
  ]);
}

/** 413: reading stops at the first value past the limit. */
export function tooManyValues(limit: number, row: number): AppError {
  const message = `The file has more than ${limit} values (MAX_UPLOAD_VALUES); split it into smaller files`;
  return new AppError(413, 'too_many_values', message, [
    { code: 'too_many_values', row, message, limit: { name: 'MAX_UPLOAD_VALUES', value: limit } },
  ]);
}
