import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/ingest/csv.parser.js';
import { decodeText } from '../../../src/ingest/decode.js';
import { shippedCatalog } from '../../support/catalog.js';

const catalog = shippedCatalog();
const triples = (text: string) =>
  parseCsv(text, catalog).observations.map((o) => [
    o.institution.text,
    o.period.text,
    o.metric.text,
    o.value.text,
    o.value.row,
    o.value.column,
  ]);

describe(parseCsv.name, () => {
  it('reads the long layout with CRLF line ends, locating each value', () => {
    expect(
      triples(
        'institution,period,metric,value\r\nB1,2024-06,npl_ratio,6.2\r\nB1,2024-06,total_loans,1000\r\n',
      ),
    ).toEqual([
      ['B1', '2024-06', 'npl_ratio', '6.2', 2, 4],
      ['B1', '2024-06', 'total_loans', '1000', 3, 4],
    ]);
  });

  it('reads the wide layout with Chinese metric headers, skipping empty cells', () => {
    const result = parseCsv(
      '机构代码,报告期,不良贷款余额,各项贷款余额\nB1,2024-06,62,\nB2,2024-06,,500\n',
      catalog,
    );
    expect(result.layout).toBe('wide');
    expect(
      result.observations.map((o) => [o.institution.text, o.metric.text, o.value.text, o.value.column]),
    ).toEqual([
      ['B1', 'npl_balance', '62', 3],
      ['B2', 'total_loans', '500', 4],
    ]);
  });

  it('keeps quoted fields with commas and line breaks whole', () => {
    const result = parseCsv('institution,period,metric,value\n"B,1",2024-06,npl_ratio,"6.2"\n', catalog);
    expect(result.observations[0]?.institution.text).toBe('B,1');
  });

  it('reports a header missing a column and an unknown wide column with their positions', () => {
    expect(parseCsv('institution,metric,value\nB1,npl_ratio,1\n', catalog).errors).toEqual([
      expect.objectContaining({ code: 'missing_column', row: 1, field: 'period' }),
    ]);
    expect(parseCsv('institution,period,npl_ratio,bogus\nB1,2024-06,1,2\n', catalog).errors).toEqual([
      expect.objectContaining({ code: 'unknown_metric', row: 1, column: 4, field: 'bogus' }),
    ]);
  });

  it('reports an empty file, a row longer than its header and broken quoting', () => {
    expect(parseCsv('', catalog).errors[0]?.code).toBe('empty_file');
    expect(parseCsv('institution,period,metric,value\n', catalog).errors[0]?.code).toBe('empty_file');
    expect(
      parseCsv('institution,period,metric,value\nB1,2024-06,npl_ratio,1,extra\n', catalog).errors,
    ).toEqual([expect.objectContaining({ code: 'too_many_fields', row: 2, column: 5 })]);
    expect(
      parseCsv('institution,period,metric,value\n"B1,2024-06,npl_ratio,1\n', catalog).errors[0]?.code,
    ).toBe('malformed_csv');
  });
});

describe(decodeText.name, () => {
  it('strips a UTF-8 BOM', () => {
    expect(decodeText(Buffer.from('\uFEFF机构,期间', 'utf8'))).toEqual({
      text: '机构,期间',
      encoding: 'utf-8',
    });
  });

  it('reads GB18030 (what Chinese Excel saves) when the bytes are not UTF-8', () => {
    const bytes = iconv.encode('机构代码,报告期,不良贷款率\nB1,2024-06,1.2\n', 'gb18030');
    const decoded = decodeText(bytes);
    expect(decoded.encoding).toBe('gb18030');
    expect(triples(decoded.text)).toEqual([['B1', '2024-06', 'npl_ratio', '1.2', 2, 3]]);
  });

  it('honours a declared GBK charset', () => {
    expect(decodeText(iconv.encode('泉州', 'gbk'), 'GBK').text).toBe('泉州');
  });
});
