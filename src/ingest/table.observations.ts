import type { Catalog } from '../catalog/catalog.js';
import { AppError } from '../http/app-error.js';
import {
  interpretHeader,
  looksLikeHeader,
  rowObservations,
  type TableLayout,
  type TableRow,
} from './layout.js';
import type { RawObservation } from './observation.types.js';
import type { ObservationCollector } from './observation.validator.js';
import { tooManyValues } from './table.js';

/** Rows above the header that may hold a title ("XX银行2024年6月监管指标"), as exported reports have. */
const MAX_TITLE_ROWS = 10;

/** Finds the header (skipping title rows), then feeds every row under it to the collector. */
export async function readObservations(
  batches: AsyncIterable<readonly TableRow[]>,
  catalog: Catalog,
  collector: ObservationCollector,
  maxValues = Number.POSITIVE_INFINITY,
): Promise<{ layout: 'long' | 'wide'; dataRows: number }> {
  const titles: TableRow[] = [];
  let layout: TableLayout | undefined;
  let dataRows = 0;
  const emit = (obs: RawObservation) => collector.add(obs);
  const badHeader = (header: TableRow) => {
    const { errors } = interpretHeader(header, catalog);
    return AppError.unprocessable('validation_failed', 'The header is invalid; nothing was stored', errors);
  };
  for await (const rows of batches)
    for (const row of rows) {
      if (layout) {
        dataRows += 1;
        const problem = rowObservations(layout, row, emit);
        if (problem) collector.problems.error(problem);
        if (collector.count > maxValues) throw tooManyValues(maxValues, row.row);
        continue;
      }
      if (!looksLikeHeader(row)) {
        titles.push(row);
        if (titles.length > MAX_TITLE_ROWS) throw badHeader(titles[0] as TableRow);
        continue;
      }
      const interpreted = interpretHeader(row, catalog);
      if (interpreted.errors.length > 0) {
        throw AppError.unprocessable(
          'validation_failed',
          `The header has ${interpreted.errors.length} error(s); nothing was stored`,
          interpreted.errors,
        );
      }
      layout = interpreted.layout;
      if (titles.length > 0) {
        collector.problems.info({
          code: 'title_rows_skipped',
          row: (titles[0] as TableRow).row,
          message: `${titles.length} row(s) above the header (row ${row.row}) were read as a title and skipped`,
        });
      }
    }
  if (!layout) {
    if (titles.length > 0) throw badHeader(titles[0] as TableRow);
    const message = 'The file has no rows';
    throw AppError.unprocessable('empty_file', message, [{ code: 'empty_file', message }]);
  }
  if (dataRows === 0) {
    const message = 'The file has a header but no data rows';
    throw AppError.unprocessable('empty_file', message, [{ code: 'empty_file', message }]);
  }
  if (collector.count === 0 && !collector.problems.hasErrors) {
    collector.problems.error({ code: 'empty_file', message: 'The data rows hold no values' });
  }
  return { layout: layout.kind, dataRows };
}
