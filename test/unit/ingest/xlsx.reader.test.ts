import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../src/http/app-error.js';
import { readXlsxRows, type TableRow, type XlsxOptions } from '../../../src/ingest/xlsx.reader.js';
import {
  formulaWorkbook,
  HEADER,
  hiddenFirstSheetWorkbook,
  hugeRowsWorkbook,
  mergedCellsWorkbook,
  percentFormatWorkbook,
  wideZhWorkbook,
} from '../../fixtures/ingest/xlsx.builders.js';

const limits = { maxRows: 1000, maxColumns: 50 };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'riskwatch-xlsx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a workbook with exceljs's ordinary writer, which puts the shared strings after the sheets. */
async function workbook(name: string, build: (wb: ExcelJS.Workbook) => void): Promise<string> {
  const wb = new ExcelJS.Workbook();
  build(wb);
  const path = join(dir, name);
  await wb.xlsx.writeFile(path);
  return path;
}

async function built(name: string, build: (path: string) => Promise<void>): Promise<string> {
  const path = join(dir, name);
  await build(path);
  return path;
}

async function read(path: string, options: Partial<XlsxOptions> = {}): Promise<TableRow[]> {
  const rows: TableRow[] = [];
  for await (const row of readXlsxRows(path, { limits, ...options })) rows.push(row);
  return rows;
}

async function failure(path: string, options: Partial<XlsxOptions> = {}): Promise<AppError> {
  const error = await read(path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

const cells = (rows: TableRow[]) => rows.map((r) => r.cells);

/** Counts the bytes read through file handles, as readXlsxRows reads, while `body` runs. */
async function bytesReadDuring(body: () => Promise<void>): Promise<number> {
  const probe = await open(import.meta.filename);
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const read = prototype.read as (...args: unknown[]) => Promise<{ bytesRead: number }>;
  let total = 0;
  const spy = vi.spyOn(prototype, 'read').mockImplementation(async function (
    this: FileHandle,
    ...args: unknown[]
  ) {
    const result = await read.apply(this, args);
    total += result.bytesRead;
    return result as never;
  });
  try {
    await body();
  } finally {
    spy.mockRestore();
  }
  return total;
}

/**
 * A zip of stored entries, written by hand for layouts exceljs does not write; with `zip64`, its
 * directory records point at the entries through zip64 fields. CRCs are left 0: no reader checks them.
 */
function storedZip(entries: Record<string, string>, zip64 = false): Buffer {
  const records: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const path = Buffer.from(name);
    const data = Buffer.from(text);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(path.length, 26);
    const extra = Buffer.alloc(zip64 ? 12 : 0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(8, 2);
      extra.writeBigUInt64LE(BigInt(offset), 4);
    }
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(path.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    records.push(local, path, data);
    directory.push(central, path, extra);
    offset += local.length + path.length + data.length;
  }
  const count = directory.length / 3;
  const size = directory.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : size, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  if (!zip64) return Buffer.concat([...records, ...directory, end]);
  const end64 = Buffer.alloc(56);
  end64.writeUInt32LE(0x06064b50, 0);
  end64.writeBigUInt64LE(44n, 4);
  end64.writeBigUInt64LE(BigInt(count), 24);
  end64.writeBigUInt64LE(BigInt(count), 32);
  end64.writeBigUInt64LE(BigInt(size), 40);
  end64.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + size), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([...records, ...directory, end64, locator, end]);
}

/** The smallest workbook: one sheet 数据 in part sheet1.xml, whose relationship target is `target`. */
function minimalWorkbook(target: string): Record<string, string> {
  const main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  const rels = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  return {
    'xl/workbook.xml': `<workbook xmlns="${main}" xmlns:r="${rels}"><sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${rels}/worksheet" Target="${target}"/></Relationships>`,
    'xl/worksheets/sheet1.xml': `<worksheet xmlns="${main}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>institution</t></is></c><c r="B1"><v>6.2</v></c></row></sheetData></worksheet>`,
  };
}

/**
 * Open descriptors of this process on the workbooks of these tests, where Linux shows them. Only those:
 * other test files sharing the worker may open or close sockets and files of their own meanwhile.
 */
const descriptors = () => {
  if (!existsSync('/proc/self/fd')) return 0;
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false; // closed since it was listed
    }
  }).length;
};

/** Waits up to two seconds for every descriptor on these tests' files to be closed; returns how many remain. */
async function settledDescriptors(): Promise<number> {
  // Closing is asynchronous (writing a fixture workbook too): on a loaded machine it can take longer
  // than one short pause. A leaked descriptor never closes, so waiting still fails it.
  for (let waited = 0; waited < 2000 && descriptors() > 0; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return descriptors();
}

/** Runs `body`, then fails if it left a descriptor on these tests' files open or an error event unhandled. */
async function leavesNothingBehind(body: () => Promise<void>): Promise<void> {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  const listeners = process.listenerCount('uncaughtException');
  expect(await settledDescriptors(), 'a descriptor was open before the body ran').toBe(0);
  process.on('uncaughtException', record);
  try {
    await body();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.off('uncaughtException', record);
  }
  expect(uncaught).toEqual([]);
  expect(await settledDescriptors()).toBe(0);
  expect(process.listenerCount('uncaughtException')).toBe(listeners);
}

describe(readXlsxRows.name, () => {
  it('reads a plain sheet, skipping empty rows but keeping the sheet row numbers', async () => {
    const path = await workbook('plain.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      sheet.getRow(1).values = ['institution', 'period', 'npl_balance'];
      sheet.getRow(2).values = ['QZRCB001', '2024-05', 120.5];
      sheet.getRow(4).values = ['QZRCB002', '2024-05', 98];
      sheet.getCell('D5').numFmt = '0.00';
    });
    expect(await read(path)).toEqual([
      { row: 1, cells: ['institution', 'period', 'npl_balance'] },
      { row: 2, cells: ['QZRCB001', '2024-05', '120.5'] },
      { row: 4, cells: ['QZRCB002', '2024-05', '98'] },
    ]);
  });

  it('reads Chinese headers as they are', async () => {
    const rows = await read(await built('zh.xlsx', wideZhWorkbook));
    expect(rows[0]?.cells).toEqual([...HEADER]);
    expect(rows).toHaveLength(6);
    expect(rows[1]?.cells.slice(0, 2)).toEqual(['QZRCB001', '2024-05']);
  });

  it('renders numbers in shortest form, strings as they are, booleans and error values as Excel does', async () => {
    const path = await workbook('values.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      sheet.getCell('B1').value = 0.1 + 0.2;
      sheet.getCell('C1').value = 1e21;
      sheet.getCell('D1').value = -0;
      sheet.getCell('E1').value = '  6.2 ';
      sheet.getCell('F1').value = { richText: [{ text: '不良' }, { text: '贷款', font: { bold: true } }] };
      sheet.getCell('G1').value = true;
      sheet.getCell('H1').value = false;
      sheet.getCell('I1').value = { error: '#DIV/0!' };
    });
    expect(cells(await read(path))).toEqual([
      ['', '0.30000000000000004', '1e+21', '0', '  6.2 ', '不良贷款', 'TRUE', 'FALSE', '#DIV/0!'],
    ]);
  });

  it('reads a formula as its saved result, a 0 and shared formulas included', async () => {
    const rows = await read(await built('formula.xlsx', formulaWorkbook));
    const reserves = rows.slice(1, 4).map((r) => [Number(r.cells[2]), Number(r.cells[4])]);
    for (const [npl, value] of reserves) expect(value).toBeCloseTo((npl as number) * 1.8, 2);
    expect(rows[4]?.cells.slice(0, 2)).toEqual(['合计', '2024-05']);

    const path = await workbook('shared-formula.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      sheet.getColumn(1).values = [0, 1, 2];
      sheet.fillFormula('B1:B3', 'A1*2', [0, 2, 4]);
      sheet.getCell('C1').value = { formula: 'A1&"x"', result: '0x' };
    });
    expect(cells(await read(path))).toEqual([
      ['0', '0', '0x'],
      ['1', '2'],
      ['2', '4'],
    ]);
  });

  it('refuses a formula without a saved result, naming its cell', async () => {
    const path = await workbook('no-result.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      sheet.addRow(['institution', 'period', 'npl_balance']);
      // exceljs writes <f>A1+1</f> with no <v>, as a generator that never calculates does.
      sheet.addRow(['QZRCB001', '2024-05', { formula: 'A1+1' }]);
    });
    const error = await failure(path);
    expect(error).toMatchObject({ status: 422, code: 'formula_without_value' });
    expect(error.message).toContain('C2');
    expect(error.errors).toEqual([
      expect.objectContaining({ code: 'formula_without_value', row: 2, column: 3 }),
    ]);
  });

  it('shows a percent-formatted number as the percent the sheet shows, without float noise', async () => {
    const rows = await read(await built('percent.xlsx', percentFormatWorkbook));
    expect(rows.slice(1).map((r) => r.cells[5])).toEqual(['52.34%', '60%']);

    const path = await workbook('percent-noise.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      sheet.getCell('A1').value = { formula: '1/7', result: 1 / 7 };
      sheet.getCell('B1').value = 0.07;
      sheet.getCell('C1').value = 0.5;
      for (const a of ['A1', 'B1']) sheet.getCell(a).numFmt = '0.00%';
      // A quoted % is only a character: the number is shown unscaled.
      sheet.getCell('C1').numFmt = '0.0"%"';
    });
    expect(cells(await read(path))).toEqual([['14.28571429%', '7%', '0.5']]);
  });

  it('reads a date, typed or calculated, as YYYY-MM-DD', async () => {
    const path = await workbook('date.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      // What Excel stores when someone types 2024-06 into a cell.
      sheet.getCell('A1').value = new Date(Date.UTC(2024, 5, 1));
      sheet.getCell('B1').value = new Date(Date.UTC(2024, 4, 31, 23, 30));
      sheet.getCell('C1').value = { formula: 'DATE(2024,6,1)', result: 45444 };
      sheet.getCell('C1').numFmt = 'yyyy-mm-dd';
    });
    expect(cells(await read(path))).toEqual([['2024-06-01', '2024-05-31', '2024-06-01']]);
  });

  it('yields the value of merged cells at their top left and empty text in the rest', async () => {
    const rows = await read(await built('merged.xlsx', mergedCellsWorkbook));
    expect(rows.map((r) => [r.row, r.cells[0], r.cells[1]])).toEqual([
      [1, '泉州市地方法人银行监管指标（2024年4—5月）', undefined],
      [3, 'institution', 'period'],
      [4, 'QZRCB001', '2024-04'],
      [5, '', '2024-05'],
      [6, 'QZRCB002', '2024-05'],
    ]);
  });

  it('reads the first visible sheet, skipping a hidden first sheet', async () => {
    const rows = await read(await built('hidden.xlsx', hiddenFirstSheetWorkbook));
    expect(rows[0]?.cells).toEqual([...HEADER]);
    expect(rows).toHaveLength(3);
  });

  it('reads a named sheet, a hidden one too', async () => {
    const path = await built('hidden-named.xlsx', hiddenFirstSheetWorkbook);
    expect((await read(path, { sheet: '代码表' }))[1]?.cells).toEqual(['QZRCB001', '晋江农村商业银行']);
    expect(await read(path, { sheet: '数据' })).toHaveLength(3);
  });

  it('names the sheets there are when the named one is missing', async () => {
    const path = await built('missing-sheet.xlsx', hiddenFirstSheetWorkbook);
    const error = await failure(path, { sheet: 'Sheet1' });
    expect(error).toMatchObject({ status: 422, code: 'sheet_not_found' });
    expect(error.message).toContain('代码表, 数据');
  });

  it('refuses a workbook without a worksheet as empty', async () => {
    const path = await workbook('no-sheet.xlsx', () => {});
    expect(await failure(path)).toMatchObject({ status: 422, code: 'empty_file' });
  });

  it.each([
    ['shared strings after the sheet, as Excel writes them', true],
    ['inline strings and no shared strings', false],
  ])('stops soon after the row limit is passed, with %s', async (_, sharedStrings) => {
    const path = join(dir, `huge-${sharedStrings}.xlsx`);
    await hugeRowsWorkbook(path, 50_000, { sharedStrings });
    let error: AppError | undefined;
    const started = performance.now();
    const read = await bytesReadDuring(async () => {
      error = await failure(path, { limits: { maxRows: 1000, maxColumns: 50 } });
    });
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ status: 413, code: 'too_many_rows' });
    expect(error?.message).toContain('1000');
    expect(error?.errors[0]).toMatchObject({ row: 1001, limit: { name: 'MAX_UPLOAD_ROWS', value: 1000 } });
    expect(read).toBeLessThan((await stat(path)).size / 4);
    expect(elapsed).toBeLessThan(3000);
    // exceljs spools worksheets to tmp-<pid>-* files when left to read the zip in its own order.
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`tmp-${process.pid}-`))).toEqual([]);
  });

  it('refuses a value beyond the column limit, but not mere formatting there', async () => {
    const path = await workbook('wide.xlsx', (wb) => {
      const sheet = wb.addWorksheet('data');
      sheet.getRow(1).values = ['institution', 'period'];
      sheet.getCell(1, 60).numFmt = '0.00';
      sheet.getCell(2, 51).value = 1;
    });
    const error = await failure(path);
    expect(error).toMatchObject({ status: 422, code: 'too_many_columns' });
    expect(error.message).toContain('50');
    expect(error.errors[0]).toMatchObject({
      row: 2,
      column: 51,
      limit: { name: 'MAX_UPLOAD_COLUMNS', value: 50 },
    });
  });

  it('finds a sheet whose relationship target is absolute, as openpyxl writes it', async () => {
    const path = join(dir, 'absolute.xlsx');
    await writeFile(path, storedZip(minimalWorkbook('/xl/worksheets/sheet1.xml')));
    expect(await read(path, { sheet: '数据' })).toEqual([{ row: 1, cells: ['institution', '6.2'] }]);
  });

  it('reads a zip whose directory has zip64 records', async () => {
    const path = join(dir, 'zip64.xlsx');
    await writeFile(path, storedZip(minimalWorkbook('worksheets/sheet1.xml'), true));
    expect(await read(path)).toEqual([{ row: 1, cells: ['institution', '6.2'] }]);
  });

  it('closes the file when the caller stops early', async () => {
    const path = await built('early.xlsx', wideZhWorkbook);
    await leavesNothingBehind(async () => {
      for await (const _ of readXlsxRows(path, { limits })) break;
    });
  });

  describe('an unreadable file', () => {
    const unreadable = { status: 422, code: 'unreadable_xlsx' };

    it('refuses a truncated zip, leaving no descriptor or error event behind', async () => {
      const whole = await readFile(await built('whole.xlsx', wideZhWorkbook));
      const path = join(dir, 'truncated.xlsx');
      await writeFile(path, whole.subarray(0, whole.length >> 1));
      await leavesNothingBehind(async () => {
        const error = await failure(path);
        expect(error).toMatchObject(unreadable);
        expect(error.message).toContain('not a readable XLSX workbook');
      });
    });

    it('refuses random bytes behind a zip signature', async () => {
      const bytes = Buffer.alloc(4096);
      let seed = 7;
      for (let i = 0; i < bytes.length; i++) bytes[i] = seed = (seed * 1103515245 + 12345) % 256;
      bytes.writeUInt32LE(0x04034b50, 0);
      const path = join(dir, 'random.xlsx');
      await writeFile(path, bytes);
      await leavesNothingBehind(async () => {
        expect(await failure(path)).toMatchObject(unreadable);
      });
    });

    it('refuses a sheet whose compressed data is corrupt instead of waiting for it forever', async () => {
      const bytes = await readFile(await built('to-corrupt.xlsx', wideZhWorkbook));
      const header = bytes.indexOf('xl/worksheets/sheet1.xml') - 30;
      // A deflate block of the reserved type 3: the inflater fails on the sheet's first byte.
      bytes[header + 30 + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28)] = 0x07;
      const path = join(dir, 'corrupt.xlsx');
      await writeFile(path, bytes);
      await leavesNothingBehind(async () => {
        expect(await failure(path)).toMatchObject(unreadable);
      });
    });

    it('refuses a sheet exceljs throws a TypeError on (a cell without an address)', async () => {
      const wb = new ExcelJS.Workbook();
      wb.addWorksheet('data').addRow(['QZRCB001', '2024-05', 1]);
      const stored = join(dir, 'no-address.xlsx');
      // Stored, not deflated, so that the XML can be edited in place, keeping its length.
      await wb.xlsx.writeFile(stored, { zip: { compression: 'STORE' } });
      const bytes = await readFile(stored);
      bytes.write('<c x="B1"', bytes.indexOf('<c r="B1"'));
      await writeFile(stored, bytes);
      expect(await failure(stored)).toMatchObject(unreadable);
    });

    it('refuses a file that is no zip at all', async () => {
      const path = join(dir, 'text.xlsx');
      await writeFile(path, 'institution,period\n');
      expect(await failure(path)).toMatchObject(unreadable);
    });
  });
});
