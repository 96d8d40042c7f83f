import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/http/app-error.js';
import { shippedCatalog } from '../../support/catalog.js';
import { readFileObservations, tempDir } from '../../support/upload-files.js';

const catalog = shippedCatalog();
const tmp = tempDir();
afterAll(tmp.remove);
let n = 0;
const write = (content: string | Buffer) => {
  const file = path.join(tmp.dir, `f${n++}.csv`);
  fs.writeFileSync(file, content);
  return file;
};
const read = async (content: string | Buffer, charset?: string) =>
  readFileObservations(write(content), catalog, charset ? { charset } : {});
const failure = async (content: string | Buffer) => {
  try {
    await read(content);
  } catch (error) {
    if (error instanceof AppError) return { status: error.status, code: error.code, errors: error.errors };
    throw error;
  }
  throw new Error('expected a failure');
};
const located = (r: Awaited<ReturnType<typeof read>>) =>
  r.observations.map((o) => [
    o.institution.text,
    o.period.text,
    o.metric.text,
    o.value.text,
    o.value.row,
    o.value.column,
  ]);

describe('reading uploaded tables', () => {
  it('reads the long layout with CRLF line ends, locating each value', async () => {
    const r = await read(
      'institution,period,metric,value\r\nB1,2024-06,npl_ratio,6.2\r\nB1,2024-06,total_loans,1000\r\n',
    );
    expect(r.layout).toBe('long');
    expect(located(r)).toEqual([
      ['B1', '2024-06', 'npl_ratio', '6.2', 2, 4],
      ['B1', '2024-06', 'total_loans', '1000', 3, 4],
    ]);
  });

  it('reads the wide layout with Chinese headers carrying units, skipping empty cells', async () => {
    const r = await read(
      '机构代码,报告期,不良贷款余额（万元）,各项贷款余额(万元)\nB1,2024-06,62,\nB2,2024-06,,500\n',
    );
    expect(r.layout).toBe('wide');
    expect(
      r.observations.map((o) => [o.institution.text, o.metric.text, o.value.text, o.value.column]),
    ).toEqual([
      ['B1', 'npl_balance', '62', 3],
      ['B2', 'total_loans', '500', 4],
    ]);
  });

  it('keeps quoted fields with commas and line breaks whole, numbering rows as records', async () => {
    const r = await read(
      'institution,period,metric,value\n"B,1",2024-06,npl_ratio,"6.2"\n"B\n2",2024-06,npl_ratio,1\n',
    );
    expect(located(r).map((o) => [o[0], o[4]])).toEqual([
      ['B,1', 2],
      ['B\n2', 3],
    ]);
  });

  it('skips title rows above the header and says so', async () => {
    const r = await read(
      '泉州农商银行2024年6月监管指标,,,\n,,,\ninstitution,period,metric,value\nB1,2024-06,npl_ratio,1\n',
    );
    expect(located(r)).toEqual([['B1', '2024-06', 'npl_ratio', '1', 4, 4]]);
    expect(r.problems.list('info')).toEqual([
      expect.objectContaining({ code: 'title_rows_skipped', row: 1 }),
    ]);
  });

  it('reads semicolon- and tab-separated text, and UTF-16 as Excel saves "Unicode text"', async () => {
    expect(located(await read('institution;period;metric;value\nB1;2024-06;npl_ratio;1\n'))).toHaveLength(1);
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      iconv.encode('机构代码\t报告期\t不良贷款率\r\nB1\t2024-06\t1.5\r\n', 'utf-16le'),
    ]);
    const r = await read(utf16);
    expect(r.inspection.encoding).toBe('utf-16le');
    expect(located(r)).toEqual([['B1', '2024-06', 'npl_ratio', '1.5', 2, 3]]);
  });

  it('reports a header missing a column and an unknown wide column with their positions', async () => {
    expect((await failure('institution,metric,value\nB1,npl_ratio,1\n')).errors).toEqual([
      expect.objectContaining({ code: 'missing_column', row: 1, field: 'period' }),
    ]);
    expect((await failure('institution,period,npl_ratio,bogus\nB1,2024-06,1,2\n')).errors).toEqual([
      expect.objectContaining({ code: 'unknown_metric', row: 1, column: 4, field: 'bogus' }),
    ]);
  });

  it('reports an empty file, a header alone, a row longer than its header and broken quoting', async () => {
    expect(await failure('')).toMatchObject({ status: 422, code: 'empty_file' });
    expect(await failure('institution,period,metric,value\n')).toMatchObject({
      status: 422,
      code: 'empty_file',
    });
    const long = await read('institution,period,metric,value\nB1,2024-06,npl_ratio,1,extra\n');
    expect(long.problems.list('error')).toEqual([
      expect.objectContaining({ code: 'too_many_fields', row: 2, column: 5 }),
    ]);
    expect(await failure('institution,period,metric,value\n"B1,2024-06,npl_ratio,1\n')).toMatchObject({
      status: 422,
      code: 'malformed_csv',
    });
  });

  it('refuses binary content, PDFs and legacy .xls by their bytes, whatever the name', async () => {
    expect(await failure(Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00]))).toMatchObject({ status: 415 });
    expect(await failure(Buffer.from('%PDF-1.7\n'))).toMatchObject({
      status: 415,
      code: 'unsupported_format',
    });
    expect(await failure(Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0]))).toMatchObject({
      status: 415,
    });
  });

  it('reads GB18030 (what Chinese Excel saves) when the bytes are not UTF-8, and honours a declared GBK', async () => {
    const bytes = iconv.encode('机构代码,报告期,不良贷款率\nB1,2024-06,1.2\n', 'gb18030');
    const r = await read(bytes);
    expect(r.inspection.encoding).toBe('gb18030');
    expect(located(r)).toEqual([['B1', '2024-06', 'npl_ratio', '1.2', 2, 3]]);
    expect(
      (await read(iconv.encode('机构,期间,指标,值\n泉州,2024-06,npl_ratio,1\n', 'gbk'), 'GBK'))
        .observations[0]?.institution.text,
    ).toBe('泉州');
  });

  it('strips a UTF-8 BOM from the first header', async () => {
    const r = await read('\uFEFFinstitution,period,metric,value\nB1,2024-06,npl_ratio,1\n');
    expect(r.inspection.encoding).toBe('utf-8');
    expect(located(r)).toHaveLength(1);
  });

  it('stops at the row limit with 413 naming it, and refuses too many columns naming that limit', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `B${i},2024-06,npl_ratio,1`).join('\n');
    const file = write(`institution,period,metric,value\n${rows}\n`);
    await expect(
      readFileObservations(file, catalog, { limits: { maxRows: 10, maxColumns: 10 } }),
    ).rejects.toMatchObject({
      status: 413,
      code: 'too_many_rows',
      errors: [expect.objectContaining({ limit: { name: 'MAX_UPLOAD_ROWS', value: 10 } })],
    });
    await expect(
      readFileObservations(file, catalog, { limits: { maxRows: 100, maxColumns: 3 } }),
    ).rejects.toMatchObject({
      status: 422,
      code: 'too_many_columns',
    });
  });
});
