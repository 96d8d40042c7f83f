import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { AppError } from '../http/app-error.js';
import { type TableLimits, type TableRow, tooManyColumns, tooManyRows } from './table.js';

export type { TableLimits, TableRow } from './table.js';

export interface XlsxOptions {
  /** The worksheet to read, which may be hidden; by default the first visible one. */
  readonly sheet?: string | undefined;
  readonly limits: TableLimits;
  /** Told which sheet is read and which others the workbook has, before its first row. */
  readonly onSheet?: ((sheet: SheetChoice) => void) | undefined;
}

/** The sheet read, and the other worksheets' names (for a hint when the wrong one was read). */
export interface SheetChoice {
  readonly name: string;
  readonly others: readonly string[];
}

/** The parts of exceljs's streaming reader used here; its typings leave them out. */
interface StreamingWorkbook {
  sharedStrings?: unknown[];
  readonly workbookRels?: ReadonlyArray<{ readonly Id: string; readonly Target: string }>;
  readonly model?: {
    readonly sheets?: ReadonlyArray<{ readonly name: string; readonly state?: string; readonly rId: string }>;
  };
  readonly properties?: { readonly model?: { readonly date1904?: boolean } };
  [Symbol.asyncIterator](): AsyncIterator<StreamingWorksheet>;
}
interface StreamingWorksheet {
  readonly iterator: { destroy?: () => void };
  [Symbol.asyncIterator](): AsyncIterator<ExcelJS.Row>;
}

const READER_OPTIONS = {
  worksheets: 'emit',
  // Shared strings are held in memory while the sheet streams. The part's compressed size is bounded by
  // the upload limit, but deflate expands up to ~1000:1, so that limit is what bounds it.
  sharedStrings: 'cache',
  // Needed for number formats: dates and percentages are told apart from plain numbers only by them.
  styles: 'cache',
  hyperlinks: 'ignore',
  entries: 'ignore',
} as const;

const WORKBOOK_RELS = 'xl/_rels/workbook.xml.rels';
const WORKBOOK = 'xl/workbook.xml';
const SHARED_STRINGS = 'xl/sharedStrings.xml';
const STYLES = 'xl/styles.xml';
/** exceljs recognises worksheets only under these names. */
const WORKSHEET = /^xl\/worksheets\/sheet(\d+)\.xml$/;
/** The unzip reads about eight chunks ahead of the rows (measured), so small chunks stop it soon after a limit. */
const CHUNK_BYTES = 16 * 1024;
/** exceljs parses every non-text formula result as a number, so an error result (#DIV/0!) arrives as NaN. */
const FORMULA_ERROR = '#ERROR!';

/** One problem, as the error's only detail, so that clients list it like any other. */
const failure = (status: number, code: string, message: string) =>
  new AppError(status, code, message, [{ code, message }]);
const unreadable = () =>
  failure(
    422,
    'unreadable_xlsx',
    'The file is not a readable XLSX workbook; save it again from Excel as .xlsx',
  );

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead < length) throw unreadable();
  return buffer;
}

/** A zip's byte ranges: each part's local record by name, and the central directory to the file's end. */
interface ZipLayout {
  readonly parts: ReadonlyMap<string, readonly [number, number]>;
  readonly directory: readonly [number, number];
}

/**
 * Reads the zip's central directory. A truncated or forged zip fails here, before exceljs sees it: its
 * streaming unzip hangs on some truncations and leaks temp files on others.
 */
async function readZipLayout(handle: FileHandle): Promise<ZipLayout> {
  const { size } = await handle.stat();
  const tailStart = Math.max(0, size - 22 - 0xffff);
  const tail = await readAt(handle, tailStart, size - tailStart);
  let end = tail.length - 22;
  while (end >= 0 && tail.readUInt32LE(end) !== 0x06054b50) end--;
  if (end < 0) throw unreadable();
  let directorySize = tail.readUInt32LE(end + 12);
  let directoryStart = tail.readUInt32LE(end + 16);
  if (directoryStart === 0xffffffff || directorySize === 0xffffffff) {
    if (end < 20 || tail.readUInt32LE(end - 20) !== 0x07064b50) throw unreadable();
    const zip64 = await readAt(handle, Number(tail.readBigUInt64LE(end - 12)), 56);
    if (zip64.readUInt32LE(0) !== 0x06064b50) throw unreadable();
    directorySize = Number(zip64.readBigUInt64LE(40));
    directoryStart = Number(zip64.readBigUInt64LE(48));
  }
  if (directoryStart + directorySize > size) throw unreadable();
  const directory = await readAt(handle, directoryStart, directorySize);
  const starts = new Map<string, number>();
  for (let at = 0; at < directory.length; ) {
    if (directory.readUInt32LE(at) !== 0x02014b50) throw unreadable();
    const nameEnd = at + 46 + directory.readUInt16LE(at + 28);
    const extraEnd = nameEnd + directory.readUInt16LE(at + 30);
    let start = directory.readUInt32LE(at + 42);
    if (start === 0xffffffff) {
      // The zip64 extra field holds the 64-bit values saturated in the record, in this order.
      let field = nameEnd;
      while (field < extraEnd && directory.readUInt16LE(field) !== 1)
        field += 4 + directory.readUInt16LE(field + 2);
      if (field >= extraEnd) throw unreadable();
      const skip = [24, 20].filter((o) => directory.readUInt32LE(at + o) === 0xffffffff).length * 8;
      start = Number(directory.readBigUInt64LE(field + 4 + skip));
    }
    if (start >= directoryStart) throw unreadable();
    starts.set(directory.toString('utf8', at + 46, nameEnd), start);
    at = extraEnd + directory.readUInt16LE(at + 32);
  }
  const bounds = [...new Set(starts.values()), directoryStart].sort((a, b) => a - b);
  const parts = new Map<string, readonly [number, number]>();
  for (const [name, start] of starts) parts.set(name, [start, bounds[bounds.indexOf(start) + 1] as number]);
  return { parts, directory: [directoryStart, size] };
}

/**
 * The zip re-ordered for exceljs: relationships, workbook, styles and shared strings, then the worksheets,
 * then the central directory. exceljs reads the zip front to back and, when a worksheet comes before the
 * shared strings (as Excel writes them), spools every worksheet to a temp file first; in this order it
 * streams the sheet, so the row limit stops the reading early.
 */
function orderedParts(layout: ZipLayout): { ranges: Array<readonly [number, number]>; worksheets: string[] } {
  const worksheets = [...layout.parts.keys()]
    .filter((name) => WORKSHEET.test(name))
    .sort((a, b) => Number(WORKSHEET.exec(a)?.[1]) - Number(WORKSHEET.exec(b)?.[1]));
  const names = [WORKBOOK_RELS, WORKBOOK, STYLES, SHARED_STRINGS, ...worksheets];
  const ranges = names.flatMap((name) => {
    const range = layout.parts.get(name);
    return range ? [range] : [];
  });
  return { ranges: [...ranges, layout.directory], worksheets };
}

async function* bytesOf(handle: FileHandle, ranges: ReadonlyArray<readonly [number, number]>) {
  for (const [start, end] of ranges) {
    for (let at = start; at < end; at += CHUNK_BYTES) {
      yield await readAt(handle, at, Math.min(CHUNK_BYTES, end - at));
    }
  }
}

/**
 * Wraps each step of exceljs's iterators so that it fails when the source or the unzip stream that exceljs
 * pipes it into fails: exceljs misses an inflate error while it waits on an entry's own stream, which then
 * never ends. Each step gets its own promise; racing every step against one long-lived promise would keep
 * every row alive until the end of the read.
 */
function guardedSteps(source: Readable): <T>(next: Promise<T>) => Promise<T> {
  let failure: { error: unknown } | undefined;
  let abort: (error: unknown) => void = () => {};
  const fail = (error: unknown) => {
    failure ??= { error };
    abort(error);
  };
  source.on('error', fail);
  const pipe = source.pipe.bind(source);
  source.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
    destination.on('error', fail);
    return pipe(destination, options);
  };
  return <T>(next: Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      next.then(resolve, reject);
      if (failure) reject(failure.error);
      else abort = reject;
    });
}

/** The worksheet part to read: the named sheet, or the first visible one in tab order. */
function chooseSheet(workbook: StreamingWorkbook, worksheets: readonly string[], wanted: string | undefined) {
  const partOf = new Map(
    (workbook.workbookRels ?? []).map((rel) => {
      // Relative to xl/ as Excel writes it, or absolute from the package root as openpyxl does.
      const target = rel.Target.startsWith('/') ? rel.Target.slice(1) : `xl/${rel.Target}`;
      return [rel.Id, target];
    }),
  );
  // Chart sheets are tabs too, but have no rows.
  const sheets = (workbook.model?.sheets ?? []).flatMap((sheet) => {
    const part = partOf.get(sheet.rId);
    return part && WORKSHEET.test(part) ? [{ ...sheet, part }] : [];
  });
  if (sheets.length === 0) throw failure(422, 'empty_file', 'The workbook has no worksheet');
  const names = sheets.map((s) => s.name).join(', ');
  // Excel forbids two sheets whose names differ only in case, so a case-blind match is unambiguous.
  const chosen =
    wanted === undefined
      ? // A hidden sheet often holds lookup lists, not the data.
        sheets.find((s) => s.state !== 'hidden' && s.state !== 'veryHidden')
      : sheets.find((s) => s.name.toLowerCase() === wanted.toLowerCase());
  if (!chosen) {
    const message =
      wanted === undefined
        ? `The workbook has no visible worksheet; name one of: ${names}`
        : `The workbook has no worksheet named ${wanted}; it has: ${names}`;
    throw new AppError(422, 'sheet_not_found', message, [
      { code: 'sheet_not_found', field: 'sheet', value: wanted ?? null, message },
    ]);
  }
  if (!worksheets.includes(chosen.part)) throw unreadable();
  return {
    part: chosen.part,
    name: chosen.name,
    others: sheets.filter((s) => s !== chosen).map((s) => s.name),
  };
}

/** Removes quoted literals, escaped characters and [colour] or [condition] sections from a number format. */
const formatCodes = (numFmt: string | undefined) => (numFmt ?? '').replace(/"[^"]*"|\\.|\[[^\]]*\]/g, '');

function numberText(value: number, numFmt: string | undefined, date1904: boolean): string {
  if (Number.isNaN(value)) return FORMULA_ERROR;
  const codes = formatCodes(numFmt);
  // Shown as the sheet shows it, so that validation refuses it with the same percent hint as in CSV.
  if (codes.includes('%')) return `${Number((value * 100).toPrecision(10))}%`;
  // exceljs turns date-formatted numbers into dates, but not formula results; this is its test.
  if (/[ymdhMsb]/.test(codes)) {
    return dateText(new Date(Math.round((value - 25569 + (date1904 ? 1462 : 0)) * 86_400_000)));
  }
  return String(value);
}

/** The date a cell shows: Excel dates have no zone, and exceljs reads them as UTC midnight. */
const dateText = (date: Date) => date.toISOString().slice(0, 10);

function valueText(value: unknown, numFmt: string | undefined, date1904: boolean): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value, numFmt, date1904);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return dateText(value);
  const v = value as { richText?: Array<{ text?: string }>; error?: string; text?: string };
  if (v.richText) return v.richText.map((run) => run.text ?? '').join('');
  if (typeof v.error === 'string') return v.error;
  if (typeof v.text === 'string') return v.text;
  throw unreadable();
}

function cellText(cell: ExcelJS.Cell, row: number, column: number, date1904: boolean): string {
  const value = cell.value as unknown;
  // A shared formula's other cells (`<f t="shared" si="0"/>`) arrive as plain {formula: '', result}
  // objects; cell.result is read for the others because cell.value drops a result of 0.
  const isFormula = cell.type === ExcelJS.ValueType.Formula;
  const shared = !isFormula && typeof value === 'object' && value !== null && 'formula' in value;
  if (!isFormula && !shared) return valueText(value, cell.numFmt, date1904);
  const result: unknown = isFormula ? cell.result : (value as { result?: unknown }).result;
  if (result === undefined) {
    const message = `Cell ${cell.address} has a formula but no saved result; open the file in Excel and save it again`;
    throw AppError.unprocessable('formula_without_value', message, [
      { code: 'formula_without_value', row, column, message },
    ]);
  }
  return valueText(result, cell.numFmt, date1904);
}

function rowCells(row: ExcelJS.Row, maxColumns: number, date1904: boolean): string[] {
  if (!Number.isSafeInteger(row.number) || row.number < 1) throw unreadable();
  const cells: string[] = [];
  row.eachCell((cell, column) => {
    const text = cellText(cell, row.number, column, date1904);
    if (text === '') return;
    // Only a value counts: formatting alone often reaches the far right of a sheet.
    if (column > maxColumns) {
      throw tooManyColumns(maxColumns, row.number, column);
    }
    cells[column - 1] = text;
  });
  return Array.from(cells, (text) => text ?? '');
}

/**
 * Yields the rows of the first visible worksheet (or the named one), lazily, as text the way the sheet
 * shows it: numbers in shortest form, percent-formatted numbers as `5.2%`, dates as `YYYY-MM-DD`, booleans
 * as `TRUE`/`FALSE`, error values as their text, formulas as their saved result. Rows without a value are
 * skipped. Stopping early, or any failure, closes the file.
 * @throws AppError 422 `unreadable_xlsx` (anything exceljs or the zip fails on), `empty_file`,
 *   `sheet_not_found` (the message lists the sheets), `formula_without_value`, `too_many_columns`;
 *   413 `too_many_rows` as soon as the limit is passed. Errors of the server's own file system, such as
 *   a missing path, pass through unchanged.
 */
export async function* readXlsxRows(filePath: string, options: XlsxOptions): AsyncGenerator<TableRow> {
  const { maxRows, maxColumns } = options.limits;
  const handle = await open(filePath);
  let source: Readable | undefined;
  try {
    const layout = await readZipLayout(handle);
    if (!layout.parts.has(WORKBOOK) || !layout.parts.has(WORKBOOK_RELS)) throw unreadable();
    const { ranges, worksheets } = orderedParts(layout);
    source = Readable.from(bytesOf(handle, ranges), { objectMode: false });
    const step = guardedSteps(source);

    const reader = new ExcelJS.stream.xlsx.WorkbookReader(
      source,
      READER_OPTIONS,
    ) as unknown as StreamingWorkbook;
    // With no shared-strings part exceljs would spool every worksheet to a temp file, waiting for it.
    if (!layout.parts.has(SHARED_STRINGS)) reader.sharedStrings = [];
    const sheets = reader[Symbol.asyncIterator]();
    let target: string | undefined;
    for (let index = 0; ; index++) {
      const next = await step(sheets.next());
      if (next.done) break;
      if (!Array.isArray(reader.workbookRels)) {
        // An empty relationships part also makes exceljs spool the worksheets; let it delete the files.
        let spooled: IteratorResult<StreamingWorksheet> = next;
        for (; !spooled.done; spooled = await step(sheets.next())) spooled.value.iterator.destroy?.();
        throw unreadable();
      }
      if (target === undefined) {
        const chosen = chooseSheet(reader, worksheets, options.sheet);
        target = chosen.part;
        options.onSheet?.({ name: chosen.name, others: chosen.others });
      }
      // Any other sheet is skipped: exceljs drains its entry when asked for the next one.
      if (worksheets[index] !== target) continue;
      const date1904 = reader.properties?.model?.date1904 === true;
      const rows = next.value[Symbol.asyncIterator]();
      let count = 0;
      for (let row = await step(rows.next()); !row.done; row = await step(rows.next())) {
        const cells = rowCells(row.value, maxColumns, date1904);
        if (cells.length === 0) continue;
        if (++count > maxRows) {
          throw tooManyRows(maxRows, row.value.number);
        }
        yield { row: row.value.number, cells };
      }
      return;
    }
    chooseSheet(reader, worksheets, options.sheet);
    throw unreadable();
  } catch (error) {
    if (error instanceof AppError || (error as { syscall?: unknown } | null)?.syscall !== undefined)
      throw error;
    throw unreadable();
  } finally {
    // exceljs's own iterators are left alone: one may be stuck waiting on a failed stream for good.
    source?.destroy();
    await handle.close();
  }
}
