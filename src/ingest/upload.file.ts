import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import iconv from 'iconv-lite';
import { AppError } from '../http/app-error.js';
import { type TableLimits, type TableRow, tooManyColumns, tooManyRows } from './table.js';
import type { SheetChoice } from './xlsx.reader.js';

export type { TableLimits } from './table.js';

/** An uploaded file, already on disk (multer's disk storage, or the CLI's argument). */
export interface UploadFile {
  readonly path: string;
  readonly name: string | null;
  /** A charset parameter the client declared (e.g. `text/csv; charset=gbk`), which wins over detection. */
  readonly charset?: string | undefined;
}

export type TextEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

/** What one pass over the bytes tells: the hash for receipts and idempotency, the kind, the encoding. */
export interface FileInspection {
  readonly sha256: string;
  readonly bytes: number;
  readonly kind: 'xlsx' | 'text';
  readonly encoding: TextEncoding;
}

const startsWith = (head: Buffer, magic: readonly number[]) => magic.every((b, i) => head[i] === b);
const ZIP = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY = [0x50, 0x4b, 0x05, 0x06];
const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const PDF = [0x25, 0x50, 0x44, 0x46];
const GZIP = [0x1f, 0x8b];
const UTF16LE_BOM = [0xff, 0xfe];
const UTF16BE_BOM = [0xfe, 0xff];
const GB_CHARSETS = ['gbk', 'gb2312', 'gb18030', 'cp936', 'x-gbk'];
const SNIFF_BYTES = 8192;

function unsupported(message: string): AppError {
  return new AppError(415, 'unsupported_format', message, [{ code: 'unsupported_format', message }]);
}

/**
 * Reads the file once, streaming: SHA-256, size, kind and text encoding. The content decides, not
 * the declared MIME type (browsers label CSV files application/vnd.ms-excel, octet-stream, …).
 * @throws AppError 415 for formats that are not CSV or XLSX, 422 for an empty file.
 */
export async function inspectFile(file: UploadFile): Promise<FileInspection> {
  const hash = createHash('sha256');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let validUtf8 = true;
  let bytes = 0;
  let head = Buffer.alloc(0);
  for await (const chunk of fs.createReadStream(file.path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (head.length < SNIFF_BYTES) head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
    if (validUtf8) {
      try {
        utf8.decode(chunk, { stream: true });
      } catch {
        validUtf8 = false;
      }
    }
  }
  if (validUtf8) {
    try {
      utf8.decode();
    } catch {
      validUtf8 = false;
    }
  }
  const sha256 = hash.digest('hex');
  if (bytes === 0)
    throw AppError.unprocessable('empty_file', 'The file is empty', [
      { code: 'empty_file', message: 'The file is empty' },
    ]);
  // A zip (an empty one starts with its end record) is read as a workbook; the reader says if it is not one.
  if (startsWith(head, ZIP) || startsWith(head, ZIP_EMPTY))
    return { sha256, bytes, kind: 'xlsx', encoding: 'utf-8' };
  if (startsWith(head, OLE2)) {
    throw unsupported(
      'This is a legacy Excel (.xls) or password-protected workbook; save it as .xlsx (without a password) or as CSV',
    );
  }
  if (startsWith(head, PDF)) throw unsupported('PDF files cannot be read; upload the data as CSV or XLSX');
  if (startsWith(head, GZIP))
    throw unsupported('Compressed files are not accepted; upload the CSV or XLSX itself');
  if (startsWith(head, UTF16LE_BOM)) return { sha256, bytes, kind: 'text', encoding: 'utf-16le' };
  if (startsWith(head, UTF16BE_BOM)) return { sha256, bytes, kind: 'text', encoding: 'utf-16be' };
  if (head.includes(0)) throw unsupported('The file is binary, not CSV or XLSX');
  const declared = file.charset?.trim().replace(/^"|"$/g, '').toLowerCase();
  if (declared && GB_CHARSETS.includes(declared)) return { sha256, bytes, kind: 'text', encoding: 'gb18030' };
  // Chinese Excel saves "CSV" as GB18030/GBK; valid UTF-8 is practically never valid-looking GBK text.
  return { sha256, bytes, kind: 'text', encoding: validUtf8 ? 'utf-8' : 'gb18030' };
}

/** Options for reading a table out of a file. */
export interface TableOptions {
  /** XLSX only: the sheet to read; default the first visible one. */
  readonly sheet?: string | undefined;
  /** XLSX only: told which sheet is read and which others there are. */
  readonly onSheet?: ((sheet: SheetChoice) => void) | undefined;
  readonly limits: TableLimits;
}

/** Rows of an uploaded file, lazily, whatever its kind. Empty rows are skipped but keep their numbers. */
export async function* readTable(
  file: UploadFile,
  inspection: FileInspection,
  options: TableOptions,
): AsyncGenerator<TableRow> {
  for await (const batch of readTableBatches(file, inspection, options)) yield* batch;
}

/**
 * The rows of {@link readTable} in batches, as they come: for a CSV, every record parsed from a chunk
 * of the file at once, so a large file costs one wait per chunk rather than one per row.
 */
export function readTableBatches(
  file: UploadFile,
  inspection: FileInspection,
  options: TableOptions,
): AsyncGenerator<readonly TableRow[]> {
  return inspection.kind === 'xlsx'
    ? readXlsx(file.path, options)
    : readCsvRows(file.path, inspection.encoding, options.limits);
}

/** exceljs is loaded on the first workbook: ~30 MB a CSV-only process (a bulk CSV import) does not need. */
async function* readXlsx(path: string, options: TableOptions): AsyncGenerator<readonly TableRow[]> {
  const { readXlsxRows } = await import('./xlsx.reader.js');
  const rows = readXlsxRows(path, { sheet: options.sheet, limits: options.limits, onSheet: options.onSheet });
  for await (const row of rows) yield [row];
}

/** The delimiter of a delimited text file, from its first line: Excel's "Unicode text" is tab-separated. */
function detectDelimiter(firstLine: string): string {
  const count = (c: string) => firstLine.split(c).length - 1;
  const tabs = count('\t');
  const semicolons = count(';');
  const commas = count(',');
  if (tabs > commas && tabs >= semicolons) return '\t';
  if (semicolons > commas) return ';';
  return ',';
}

async function firstLineOf(path: string, encoding: TextEncoding): Promise<string> {
  const stream = fs.createReadStream(path, { start: 0, end: 64 * 1024 });
  let text = '';
  const decoder = iconv.getDecoder(encoding === 'utf-8' ? 'utf8' : encoding);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      text += decoder.write(chunk);
      const end = text.search(/\r?\n/);
      if (end >= 0) return text.slice(0, end);
    }
  } finally {
    stream.destroy();
  }
  return text;
}

/** The longest CSV record accepted: a row wider than this is not a data row. */
const MAX_RECORD_BYTES = 1024 * 1024;

async function* readCsvRows(
  path: string,
  encoding: TextEncoding,
  limits: TableLimits,
): AsyncGenerator<readonly TableRow[]> {
  const delimiter = detectDelimiter(await firstLineOf(path, encoding));
  // Chunks of 64 KiB: the records of one chunk are held at once, so smaller chunks keep fewer of them
  // alive across a young-generation collection.
  const source = fs.createReadStream(path, { highWaterMark: 64 * 1024 });
  // Node decodes UTF-8 natively (and csv-parse drops its BOM), about twice as fast as iconv-lite.
  const decoder =
    encoding === 'utf-8'
      ? new PassThrough()
      : (iconv.decodeStream(encoding, { stripBOM: true }) as Transform);
  const parser = parse({
    delimiter,
    bom: true,
    encoding: 'utf8',
    relax_column_count: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  source.on('error', (error) => parser.destroy(error));
  decoder.on('error', (error) => parser.destroy(error));
  source.pipe(decoder).pipe(parser);
  let row = 0;
  let kept = 0;
  try {
    for (;;) {
      // Every record parsed so far, as one batch.
      const batch: TableRow[] = [];
      const next = () => parser.read() as string[] | null;
      for (let record = next(); record !== null; record = next()) {
        row += 1;
        if (record.length === 1 && record[0]?.trim() === '') continue;
        if (record.every((c) => c.trim() === '')) continue;
        kept += 1;
        if (kept > limits.maxRows) throw tooManyRows(limits.maxRows);
        if (record.length > limits.maxColumns) throw tooManyColumns(limits.maxColumns, row);
        batch.push({ row, cells: record });
      }
      if (batch.length > 0) yield batch;
      if (!(await moreRecords(parser))) break;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    // Any parser error is the file's fault (quoting, record size), never the service's.
    if (error instanceof CsvError) {
      // csv-parse counts the records it parsed (blank lines included, as the rows here are), which may be
      // ahead of the loop: the records of the chunk that failed are dropped with the stream.
      const parsed = Number((error as CsvError & { records?: number }).records ?? row);
      const problem = { code: 'malformed_csv', row: parsed + 1, message: error.message };
      throw AppError.unprocessable('malformed_csv', `The CSV cannot be read: ${problem.message}`, [problem]);
    }
    throw error;
  } finally {
    source.destroy();
    decoder.destroy();
    parser.destroy();
  }
}

/** Waits until the parser has records to read (true) or has ended (false); rejects with its error. */
function moreRecords(parser: Readable): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (parser.errored) return reject(parser.errored);
    if (parser.readableEnded) return resolve(false);
    if (parser.readableLength > 0) return resolve(true);
    const settle = (outcome: boolean | Error) => {
      parser.off('readable', onReadable);
      parser.off('end', onEnd);
      parser.off('error', onError);
      parser.off('close', onClose);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onReadable = () => settle(true);
    const onEnd = () => settle(false);
    const onError = (error: Error) => settle(error);
    // Destroyed without an error (cannot happen from the pipe above, but never wait forever).
    const onClose = () => settle(parser.errored ?? false);
    parser.on('readable', onReadable);
    parser.on('end', onEnd);
    parser.on('error', onError);
    parser.on('close', onClose);
  });
}
