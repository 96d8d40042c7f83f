/**
 * The ingest acceptance corpus: every file of test/fixtures/ingest/ uploaded through HTTP, with its exact
 * outcome. A rejected upload must leave every table as it was; an accepted one must have written exactly
 * what its receipt says. The files, and what each represents, are in test/fixtures/ingest/README.md.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidCreditCode } from '../../src/institutions/credit-code.js';
import { CORPUS_INSTITUTIONS, QZRCB001_CREDIT_CODE } from '../fixtures/ingest/institutions.js';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const DIR = path.resolve(import.meta.dirname, '../fixtures/ingest');
/** 10:00 on 2024-07-10 in Asia/Shanghai: 2024-06 is over and not yet due, 2024-05 is late, 2024-07 is future. */
const NOW = new Date('2024-07-10T02:00:00Z');

const CSV = 'text/csv';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Who uploads: the admin token, or QZRCB002's institution key. */
type Key = 'admin' | 'QZRCB002';

interface Upload {
  readonly file: string;
  /**
   * The part's Content-Type, as the client declares it (parameters included, though multer keeps only
   * type/subtype: a `charset=` here never reaches the service).
   */
  readonly type: string;
  /** `?charset=`: how a client declares the text encoding. */
  readonly charset?: string;
  /** `?sheet=` */
  readonly sheet?: string;
  /** The form field `sheet`. */
  readonly sheetField?: string;
  readonly explanation?: string;
  readonly key?: Key;
  /** `limits`: a second service with MAX_UPLOAD_BYTES=200000 and MAX_UPLOAD_ROWS=10000. */
  readonly service?: 'main' | 'limits';
}

/** A problem as [code, row, column]; a missing row or column is left off (or undefined). */
type ErrorTuple = readonly [code: string, row?: number, column?: number];

interface Rejected {
  readonly status: 413 | 415 | 422;
  readonly code: string;
  /** Every problem, exactly, in order. */
  readonly errors: readonly ErrorTuple[];
  /** Messages that must match, by the index of the problem. */
  readonly hints?: ReadonlyArray<readonly [index: number, pattern: RegExp]>;
  /** The `check` of each problem that has one, in order. */
  readonly checks?: readonly string[];
  readonly limit?: { readonly name: string; readonly value: number };
  /** Warnings listed with the rejection (they do not reject by themselves). */
  readonly warnings?: readonly string[];
}

interface Accepted {
  readonly status: 201;
  readonly format: string;
  readonly encoding?: string;
  readonly sheet?: string;
  /** Data rows under the header. */
  readonly rows: number;
  /** The receipt's `observations`: values stored as reported (a repeated identical row counts once). */
  readonly observations: number;
  /** Values stored as reported (a duplicate row counts once). */
  readonly reported: number;
  readonly derived: number;
  /** [institution, period] of each version written, in order. */
  readonly submissions: ReadonlyArray<readonly [string, string]>;
  readonly warnings: readonly string[];
  readonly info: readonly string[];
}

/** Byte-identical content uploaded again: 200, the first receipt, nothing written. */
interface Replayed {
  readonly status: 200;
}

interface Case extends Upload {
  readonly name: string;
  /**
   * Uploads done first, in the same test so that no case depends on another: each must be accepted as
   * its `expect` says (or, without one, accepted or replayed).
   */
  readonly before?: ReadonlyArray<Upload & { readonly expect?: Accepted }>;
  readonly expect: Rejected | Accepted | Replayed;
  /** Further checks of the answer. */
  readonly andThen?: (body: Receipt, t: TestService) => Promise<void>;
  /** The answer must come within this many milliseconds. */
  readonly withinMs?: number;
}

interface Receipt {
  readonly upload_id: number;
  readonly replayed: boolean;
  readonly submissions: ReadonlyArray<{
    id: number;
    institution: string;
    period: string;
    version: number;
    supersedes: number | null;
    reported: number;
    derived: string[];
    late: boolean;
  }>;
  readonly [key: string]: unknown;
}

const accepted = (a: Omit<Accepted, 'status' | 'warnings' | 'info'> & Partial<Accepted>): Accepted => ({
  status: 201,
  warnings: [],
  info: [],
  ...a,
});
const invalid = (errors: readonly ErrorTuple[], more: Partial<Rejected> = {}): Rejected => ({
  status: 422,
  code: 'validation_failed',
  errors,
  ...more,
});
/** Every 415 lists its one problem, as every other rejection does. */
const unsupported: Rejected = { status: 415, code: 'unsupported_format', errors: [['unsupported_format']] };
const times = <T>(n: number, item: T): T[] => Array.from({ length: n }, () => item);
/** The info of a receipt as [code, row, column, value]. */
const infoOf = (body: Receipt) =>
  (body.info as Array<{ code: string; row?: number; column?: number; value?: unknown }>).map((i) => [
    i.code,
    i.row,
    i.column,
    i.value,
  ]);

const CASES: Case[] = [
  // --- accepted text ---
  {
    name: 'long CSV, UTF-8',
    file: 'long-utf8.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 7,
      observations: 7,
      reported: 7,
      derived: 0,
      submissions: [['QZRCB001', '2024-06']],
    }),
  },
  {
    name: 'long CSV, UTF-8 with BOM, CRLF, Chinese headers and metric names',
    file: 'long-utf8-bom-zh.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB002', '2024-06']],
    }),
  },
  {
    name: 'long CSV, CRLF',
    file: 'long-crlf.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 7,
      observations: 7,
      reported: 7,
      derived: 0,
      submissions: [['JJCCB01', '2024-06']],
    }),
  },
  {
    name: 'wide CSV with Chinese headers saved as GBK by Excel',
    file: 'wide-zh-gbk-excel.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-wide',
      encoding: 'gb18030',
      rows: 3,
      observations: 21,
      reported: 21,
      derived: 0,
      submissions: [
        ['QZRCB001', '2024-06'],
        ['QZRCB002', '2024-06'],
        ['JJCCB01', '2024-06'],
      ],
    }),
  },
  {
    name: 'wide CSV with English metric names',
    file: 'wide-en-names.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-wide',
      encoding: 'utf-8',
      rows: 1,
      observations: 5,
      reported: 5,
      derived: 2,
      submissions: [['QZRCB002', '2024-06']],
    }),
  },
  {
    name: 'wide CSV with units in the headers',
    file: 'wide-zh-units.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-wide',
      encoding: 'utf-8',
      rows: 1,
      observations: 5,
      reported: 5,
      derived: 2,
      submissions: [['QZRCB001', '2024-06']],
    }),
  },
  // multer keeps only type/subtype of the part's Content-Type, so a charset is declared with ?charset=.
  {
    name: 'a declared ?charset=gbk wins over bytes that also happen to be valid UTF-8',
    file: 'long-gbk-declared-charset.csv',
    type: 'text/csv; charset=gbk',
    charset: 'gbk',
    expect: accepted({
      format: 'csv-long',
      encoding: 'gb18030',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB002', '2024-06']],
    }),
  },
  {
    name: 'the same bytes with charset=gbk on the part only: not seen, read as UTF-8 (值 becomes U+05B5)',
    file: 'long-gbk-declared-charset.csv',
    type: 'text/csv; charset=gbk',
    expect: invalid(
      [
        ['missing_column', 1],
        ['unknown_column', 1, 4],
      ],
      { hints: [[1, /^Unexpected column \u05b5 in the long layout$/]] },
    ),
  },
  {
    name: 'UTF-16LE tab-separated "Unicode text"',
    file: 'wide-utf16le-unicode-text.txt',
    type: 'text/plain',
    expect: accepted({
      format: 'csv-wide',
      encoding: 'utf-16le',
      rows: 2,
      observations: 8,
      reported: 8,
      derived: 6,
      submissions: [
        ['QZRCB001', '2024-06'],
        ['QZRCB002', '2024-06'],
      ],
    }),
  },
  {
    name: 'semicolon-separated CSV',
    file: 'long-semicolon.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['JJCCB01', '2024-06']],
    }),
  },
  {
    name: 'quoted fields with commas and line breaks',
    file: 'wide-quoted-multiline.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-wide',
      encoding: 'utf-8',
      rows: 1,
      observations: 3,
      reported: 3,
      derived: 0,
      submissions: [['QZRCB001', '2024-06']],
      info: ['title_rows_skipped'],
    }),
  },
  {
    name: 'title rows above the header',
    file: 'long-title-rows.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 7,
      observations: 7,
      reported: 7,
      derived: 0,
      submissions: [['QZRCB002', '2024-06']],
      info: ['title_rows_skipped'],
    }),
  },
  {
    name: 'whitespace-only lines between and after the rows',
    file: 'long-whitespace-lines.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB001', '2024-06']],
    }),
  },
  {
    name: 'periods written 202406 and 2024年6月: read as 2024-06, one period_normalised per text',
    file: 'long-periods-compact-zh.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB001', '2024-06']],
      info: ['period_normalised', 'period_normalised'],
    }),
    andThen: async (body) => {
      expect(infoOf(body)).toEqual([
        ['period_normalised', 2, 2, '202406'],
        ['period_normalised', 4, 2, '2024年6月'],
      ]);
      expect(body.periods).toEqual(['2024-06']);
    },
  },
  {
    name: 'duplicate identical rows: accepted once, with duplicate_row',
    file: 'long-duplicate-identical-rows.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 5,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB002', '2024-06']],
      warnings: ['duplicate_row'],
    }),
  },
  {
    name: 'a quarter-end month carrying capital ratios: stored as the quarter',
    file: 'long-quarter-end-capital.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 12,
      observations: 12,
      reported: 12,
      derived: 0,
      submissions: [
        ['JJCCB01', '2024-06'],
        ['JJCCB01', '2024-Q2'],
      ],
      info: ['stored_as_quarter'],
    }),
  },
  {
    name: 'the institution named by its unified social credit code',
    file: 'wide-by-credit-code.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-wide',
      encoding: 'utf-8',
      rows: 1,
      observations: 3,
      reported: 3,
      derived: 1,
      submissions: [['QZRCB001', '2024-06']],
    }),
  },
  {
    name: "a new bank's first month, filed late",
    file: 'long-newbank-first-month.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 7,
      observations: 7,
      reported: 7,
      derived: 0,
      submissions: [['NEWBANK1', '2024-05']],
      warnings: ['late_filing'],
    }),
  },
  {
    name: "an institution key uploading its own institution's rows",
    file: 'long-own-institution-key.csv',
    type: CSV,
    key: 'QZRCB002',
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB002', '2024-06']],
    }),
  },
  {
    name: 'a good CSV declared application/vnd.ms-excel: the content decides',
    file: 'long-declared-vnd-ms-excel.csv',
    type: 'application/vnd.ms-excel',
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 3,
      observations: 3,
      reported: 3,
      derived: 0,
      submissions: [['QZGUA01', '2024-06']],
    }),
  },
  {
    name: 'a good CSV declared application/octet-stream: the content decides',
    file: 'long-declared-octet-stream.csv',
    type: 'application/octet-stream',
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 3,
      observations: 3,
      reported: 3,
      derived: 0,
      submissions: [['QZMIC01', '2024-05']],
      warnings: ['late_filing'],
    }),
  },
  {
    name: 'a financing-guarantee firm, wide with Chinese names',
    file: 'wide-guarantee-zh.csv',
    type: CSV,
    expect: accepted({
      format: 'csv-wide',
      encoding: 'utf-8',
      rows: 1,
      observations: 2,
      reported: 2,
      derived: 1,
      submissions: [['QZGUA01', '2024-06']],
    }),
  },
  {
    name: 'accepted, then uploaded again byte for byte: 200, replayed, nothing new',
    file: 'long-replay.csv',
    type: CSV,
    before: [
      {
        file: 'long-replay.csv',
        type: CSV,
        expect: accepted({
          format: 'csv-long',
          encoding: 'utf-8',
          rows: 4,
          observations: 4,
          reported: 4,
          derived: 3,
          submissions: [['JJCCB01', '2024-06']],
        }),
      },
    ],
    expect: { status: 200 },
  },
  {
    name: 'a first version, then a resubmission with a changed value superseding it',
    file: 'long-resubmit-v2.csv',
    type: CSV,
    before: [
      {
        file: 'long-resubmit-v1.csv',
        type: CSV,
        expect: accepted({
          format: 'csv-long',
          encoding: 'utf-8',
          rows: 3,
          observations: 3,
          reported: 3,
          derived: 0,
          submissions: [['QZMIC01', '2024-06']],
        }),
      },
    ],
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 3,
      observations: 3,
      reported: 3,
      derived: 0,
      submissions: [['QZMIC01', '2024-06']],
    }),
    andThen: async (body, t) => {
      const [v2] = body.submissions;
      expect(v2?.supersedes).toBe((v2?.version ?? 0) - 1);
      const history = await request(t.app)
        .get('/api/v1/submissions?institution=QZMIC01&period=2024-06')
        .set(auth('admin'))
        .expect(200);
      const versions = history.body.submissions as Array<{ id: number; version: number; current: boolean }>;
      expect(versions[0]).toMatchObject({ id: v2?.id, version: v2?.version, current: true });
      expect(versions[1]).toMatchObject({ version: v2?.supersedes, current: false });
      const current = await request(t.app)
        .get(`/api/v1/submissions/${v2?.id}`)
        .set(auth('admin'))
        .expect(200);
      expect(current.body.observations).toContainEqual(
        expect.objectContaining({ metric: 'total_funding', value: 13150, derived: false }),
      );
    },
  },
  {
    name: 'the month before (late), then amounts in 元 instead of 万元: jump warnings, explained with the upload',
    file: 'long-amounts-in-yuan.csv',
    type: CSV,
    before: [
      {
        file: 'long-baseline-2024-05.csv',
        type: CSV,
        expect: accepted({
          format: 'csv-long',
          encoding: 'utf-8',
          rows: 4,
          observations: 4,
          reported: 4,
          derived: 3,
          submissions: [['QZRCB002', '2024-05']],
          warnings: ['late_filing'],
        }),
      },
    ],
    explanation: '本月金额误按元填报，将于次日更正重报',
    expect: accepted({
      format: 'csv-long',
      encoding: 'utf-8',
      rows: 4,
      observations: 4,
      reported: 4,
      derived: 3,
      submissions: [['QZRCB002', '2024-06']],
      warnings: times(3, 'jump_from_previous'),
    }),
    andThen: async (body) => {
      expect(body.explanation_required).toBe(false);
      expect(body.explanation).toBe('本月金额误按元填报，将于次日更正重报');
    },
  },

  // --- rejected text ---
  {
    name: 'an empty file (0 bytes)',
    file: 'empty.csv',
    type: CSV,
    expect: { status: 422, code: 'empty_file', errors: [['empty_file']] },
  },
  {
    name: 'a header only',
    file: 'header-only.csv',
    type: CSV,
    expect: { status: 422, code: 'empty_file', errors: [['empty_file']] },
  },
  {
    name: 'whitespace-only lines',
    file: 'whitespace-only.csv',
    type: CSV,
    expect: { status: 422, code: 'empty_file', errors: [['empty_file']] },
  },
  {
    name: 'conflicting duplicate rows',
    file: 'long-duplicate-conflicting-rows.csv',
    type: CSV,
    expect: invalid([['duplicate_value', 6, 4]]),
  },
  {
    name: 'an unknown metric, an invalid period and a text value, all listed',
    file: 'long-unknown-metric-bad-period-text-value.csv',
    type: CSV,
    expect: invalid([
      ['unknown_metric', 2, 3],
      ['invalid_period', 3, 2],
      ['invalid_number', 4, 4],
    ]),
  },
  {
    name: 'thousands separators and percent signs from Excel formatting, with hints',
    file: 'wide-zh-gbk-excel-formatted.csv',
    type: CSV,
    expect: invalid(
      [
        ['invalid_number', 2, 3],
        ['invalid_number', 2, 4],
        ['invalid_number', 2, 5],
      ],
      {
        hints: [
          [0, /thousands separators; write 8086\.22/],
          [1, /thousands separators; write 612384\.56/],
          [2, /percent sign.*e\.g\. 1\.32/],
        ],
      },
    ),
  },
  {
    name: 'values out of range',
    file: 'long-out-of-range.csv',
    type: CSV,
    expect: invalid([
      ['out_of_range', 2, 4],
      ['out_of_range', 3, 4],
    ]),
  },
  {
    name: 'a ratio that disagrees with its components',
    file: 'long-ratio-mismatch.csv',
    type: CSV,
    expect: invalid([['ratio_mismatch', 4, 4]], { checks: ['npl_ratio'] }),
  },
  {
    name: 'core tier-1 above tier-1',
    file: 'long-core-tier1-above-tier1.csv',
    type: CSV,
    // Located at the first metric the check's expression names (core_tier1_ratio <= tier1_ratio): row 4.
    expect: invalid([['inconsistent_values', 4, 4]], { checks: ['core_tier1_within_tier1'] }),
  },
  {
    name: 'NPL above total loans',
    file: 'long-npl-above-loans.csv',
    type: CSV,
    expect: invalid([['inconsistent_values', 2, 4]], {
      checks: ['npl_within_loans'],
      warnings: ['inconsistent_values'],
    }),
  },
  {
    name: 'capital ratios for a month that ends no quarter',
    file: 'long-capital-non-quarter-end.csv',
    type: CSV,
    expect: invalid([
      ['period_frequency_mismatch', 3, 2],
      ['period_frequency_mismatch', 4, 2],
      ['period_frequency_mismatch', 5, 2],
    ]),
  },
  {
    name: 'a period not over yet',
    file: 'long-future-period.csv',
    type: CSV,
    expect: invalid([
      ['future_period', 2, 2],
      ['future_period', 3, 2],
    ]),
  },
  {
    name: 'a period before the institution was established',
    file: 'long-before-established.csv',
    type: CSV,
    expect: invalid([
      ['before_established', 2, 2],
      ['before_established', 3, 2],
    ]),
  },
  {
    name: "an institution key uploading another institution's rows",
    file: 'long-other-institution.csv',
    type: CSV,
    key: 'QZRCB002',
    expect: invalid([
      ['institution_not_allowed', 4, 1],
      ['institution_not_allowed', 5, 1],
    ]),
  },
  {
    name: 'a row with more fields than the header',
    file: 'long-too-many-fields.csv',
    type: CSV,
    expect: invalid([['too_many_fields', 3, 5]]),
  },
  {
    name: 'broken quoting',
    file: 'long-broken-quoting.csv',
    type: CSV,
    expect: { status: 422, code: 'malformed_csv', errors: [['malformed_csv', 3]] },
  },
  // The row is the record where the broken one starts (header = 1), not csv-parse's physical line (5).
  {
    name: 'broken quoting after a quoted line break: the row is the record, not the line',
    file: 'long-broken-quoting-after-multiline.csv',
    type: CSV,
    expect: { status: 422, code: 'malformed_csv', errors: [['malformed_csv', 4]] },
  },
  {
    name: 'semicolons with decimal commas',
    file: 'long-semicolon-decimal-comma.csv',
    type: CSV,
    expect: invalid([
      ['invalid_number', 2, 4],
      ['invalid_number', 3, 4],
    ]),
  },
  {
    name: 'a wide header with a column the catalog lacks',
    file: 'wide-unknown-column.csv',
    type: CSV,
    expect: invalid([['unknown_metric', 1, 5]]),
  },
  {
    name: 'a file over MAX_UPLOAD_BYTES',
    file: 'too-large.csv',
    type: CSV,
    service: 'limits',
    expect: {
      status: 413,
      code: 'file_too_large',
      errors: [['file_too_large']],
      limit: { name: 'MAX_UPLOAD_BYTES', value: 200_000 },
    },
  },

  // --- not CSV or XLSX ---
  { name: 'a PNG declared text/csv', file: 'screenshot.png', type: CSV, expect: unsupported },
  { name: 'binary garbage', file: 'garbage.bin', type: 'application/octet-stream', expect: unsupported },
  { name: 'a PDF', file: 'report.pdf', type: 'application/pdf', expect: unsupported },
  {
    name: 'a legacy .xls',
    file: 'legacy-excel97.xls',
    type: 'application/vnd.ms-excel',
    expect: { ...unsupported, hints: [[0, /\.xlsx/]] },
  },
  { name: 'a gzipped CSV', file: 'long-utf8.csv.gz', type: 'application/gzip', expect: unsupported },

  // --- accepted workbooks ---
  {
    name: 'XLSX, wide with Chinese headers and units',
    file: 'wide-zh.xlsx',
    type: XLSX,
    expect: accepted({
      format: 'xlsx-wide',
      rows: 3,
      observations: 15,
      reported: 15,
      derived: 6,
      submissions: [
        ['QZRCB001', '2024-06'],
        ['QZRCB002', '2024-06'],
        ['JJCCB01', '2024-06'],
      ],
    }),
  },
  {
    name: 'XLSX, long layout',
    file: 'long.xlsx',
    type: XLSX,
    expect: accepted({
      format: 'xlsx-long',
      rows: 6,
      observations: 6,
      reported: 6,
      derived: 4,
      submissions: [
        ['JJCCB01', '2024-06'],
        ['QZGUA01', '2024-06'],
      ],
    }),
  },
  {
    name: 'XLSX, formulas with cached values (shared and plain)',
    file: 'formulas-cached.xlsx',
    type: XLSX,
    expect: accepted({
      format: 'xlsx-wide',
      rows: 3,
      observations: 15,
      reported: 15,
      derived: 3,
      submissions: [
        ['QZRCB001', '2024-06'],
        ['QZRCB002', '2024-06'],
        ['JJCCB01', '2024-06'],
      ],
    }),
  },
  {
    name: 'XLSX, a title merged across the columns above the header',
    file: 'merged-title.xlsx',
    type: XLSX,
    expect: accepted({
      format: 'xlsx-wide',
      rows: 1,
      observations: 5,
      reported: 5,
      derived: 2,
      submissions: [['QZRCB002', '2024-06']],
      info: ['title_rows_skipped'],
    }),
  },
  {
    name: 'XLSX, a hidden first sheet: the visible one is read',
    file: 'builders-hidden-first-sheet.xlsx',
    type: XLSX,
    expect: accepted({
      format: 'xlsx-wide',
      rows: 2,
      observations: 8,
      reported: 8,
      derived: 6,
      submissions: [
        ['QZRCB001', '2024-05'],
        ['QZRCB002', '2024-05'],
      ],
      warnings: ['late_filing', 'late_filing'],
    }),
  },
  // A replay must also match the sheet (and encoding): the same bytes read from another sheet are a new upload.
  {
    name: 'XLSX, a sheet named by ?sheet=, then another sheet of the same workbook by the form field: not a replay',
    file: 'named-sheets.xlsx',
    type: XLSX,
    sheetField: '2024年5月',
    before: [
      {
        file: 'named-sheets.xlsx',
        type: XLSX,
        sheet: '2024年6月',
        expect: accepted({
          format: 'xlsx-wide',
          sheet: '2024年6月',
          rows: 1,
          observations: 5,
          reported: 5,
          derived: 2,
          submissions: [['QZRCB002', '2024-06']],
        }),
      },
    ],
    expect: accepted({
      format: 'xlsx-wide',
      sheet: '2024年5月',
      rows: 1,
      observations: 5,
      reported: 5,
      derived: 2,
      submissions: [['QZRCB002', '2024-05']],
      warnings: ['late_filing'],
    }),
  },
  {
    name: 'XLSX, a named sheet that does not exist',
    file: 'named-sheets.xlsx',
    type: XLSX,
    sheet: '2024年7月',
    expect: {
      status: 422,
      code: 'sheet_not_found',
      errors: [['sheet_not_found']],
      hints: [[0, /填报说明, 2024年6月, 2024年5月/]],
    },
  },
  {
    name: 'XLSX, no sheet named: the first visible sheet holds instructions, not a header; the answer names the others',
    file: 'named-sheets.xlsx',
    type: XLSX,
    expect: invalid([['missing_column', 1], ['missing_column', 1], ['unknown_metric', 1, 1], ['sheet_hint']]),
    andThen: async (body) => {
      const hint = (body as unknown as { errors: Array<{ code: string; message: string }> }).errors.at(-1);
      expect(hint?.message).toMatch(
        /^The first visible sheet, 填报说明, was read; the workbook also has .*2024年6月/,
      );
    },
  },
  {
    name: 'XLSX, dates formatted yyyy-mm in the period column (the sheet shows 2024-06): read as 2024-06',
    file: 'month-date-in-period.xlsx',
    type: XLSX,
    expect: accepted({
      format: 'xlsx-long',
      rows: 2,
      observations: 2,
      reported: 2,
      derived: 1,
      submissions: [['QZRCB001', '2024-06']],
      info: ['period_normalised'],
    }),
    andThen: async (body) => {
      expect(infoOf(body)).toEqual([['period_normalised', 2, 2, '2024-06-01']]);
    },
  },

  // --- rejected workbooks ---
  {
    name: 'XLSX, a formula without a cached value',
    file: 'formula-no-cached-value.xlsx',
    type: XLSX,
    expect: { status: 422, code: 'formula_without_value', errors: [['formula_without_value', 2, 5]] },
  },
  {
    name: 'XLSX, a formula whose cached value is an error',
    file: 'formula-error-value.xlsx',
    type: XLSX,
    expect: invalid([['invalid_number', 2, 5]]),
  },
  {
    name: 'XLSX, percent-formatted cells, with the percent hint',
    file: 'builders-percent-format.xlsx',
    type: XLSX,
    expect: invalid(
      [
        ['invalid_number', 2, 6],
        ['invalid_number', 3, 6],
      ],
      { hints: [[0, /52\.34% has a percent sign.*e\.g\. 52\.34/]] },
    ),
  },
  {
    name: 'XLSX, dates in the period column: a month-end (2024-06-30) is read as its month, a mid-month date is refused',
    file: 'date-in-period.xlsx',
    type: XLSX,
    expect: invalid([['invalid_period', 4, 2]], { hints: [[0, /^"2024-06-15" is not a period/]] }),
  },
  {
    name: 'XLSX, the institution cell merged over two rows',
    file: 'builders-merged-institution.xlsx',
    type: XLSX,
    // One problem for the row's institution cell, not one per value.
    expect: invalid([['missing_institution', 5, 1]]),
  },
  {
    name: 'XLSX, formulas with cached values but an unknown bank and a total row',
    file: 'builders-formula-total-row.xlsx',
    type: XLSX,
    expect: invalid([
      ['unknown_institution', 4, 1],
      ['unknown_institution', 5, 1],
    ]),
  },
  // exceljs cannot read rows or cells without `r` (optional in OOXML): it numbers such a row NaN, which the
  // reader refuses at the first row, before anything is inflated. rows-bomb-numbered covers too_many_rows.
  {
    name: 'XLSX expanding to two million rows without row references: refused at once as unreadable',
    file: 'rows-bomb-unnumbered.xlsx',
    type: XLSX,
    withinMs: 2000,
    expect: { status: 422, code: 'unreadable_xlsx', errors: [['unreadable_xlsx']] },
  },
  {
    name: 'XLSX with more numbered rows than MAX_UPLOAD_ROWS',
    file: 'rows-bomb-numbered.xlsx',
    type: XLSX,
    service: 'limits',
    expect: {
      status: 413,
      code: 'too_many_rows',
      errors: [['too_many_rows', 10_001]],
      limit: { name: 'MAX_UPLOAD_ROWS', value: 10_000 },
    },
  },
  {
    name: 'XLSX truncated to its first half',
    file: 'truncated.xlsx',
    type: XLSX,
    expect: { status: 422, code: 'unreadable_xlsx', errors: [['unreadable_xlsx']] },
  },
  {
    name: 'an empty zip: read as a workbook, which it is not',
    file: 'empty.zip',
    type: 'application/zip',
    expect: { status: 422, code: 'unreadable_xlsx', errors: [['unreadable_xlsx']] },
  },
  {
    name: 'a zip holding a CSV, not a workbook',
    file: 'zipped-csv.zip',
    type: 'application/zip',
    expect: { status: 422, code: 'unreadable_xlsx', errors: [['unreadable_xlsx']] },
  },
];

// ---------------------------------------------------------------------------------------------------

const TABLES = [
  'uploads',
  'submissions',
  'observations',
  'alerts',
  'notification_outbox',
  'audit_log',
] as const;
type Counts = Record<(typeof TABLES)[number], number>;

let main: TestService;
let limits: TestService;
const tokens: Record<Key, string> = { admin: ADMIN, QZRCB002: '' };
const auth = (key: Key) => ({ Authorization: `Bearer ${tokens[key]}` });
const serviceOf = (u: Upload) => (u.service === 'limits' ? limits : main);

async function counts(t: TestService): Promise<Counts> {
  const entries = await Promise.all(
    TABLES.map(async (table) => {
      const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(
        t.db.db,
      );
      return [table, Number(rows[0]?.n)] as const;
    }),
  );
  return Object.fromEntries(entries) as Counts;
}

function upload(u: Upload) {
  let req = request(serviceOf(u).app)
    .post('/api/v1/submissions')
    .set(auth(u.key ?? 'admin'));
  if (u.sheet !== undefined) req = req.query({ sheet: u.sheet });
  if (u.charset !== undefined) req = req.query({ charset: u.charset });
  if (u.sheetField !== undefined) req = req.field('sheet', u.sheetField);
  if (u.explanation !== undefined) req = req.field('explanation', u.explanation);
  return req.attach('file', fs.readFileSync(path.join(DIR, u.file)), {
    filename: u.file,
    contentType: u.type,
  });
}

const tuple = (e: { code: string; row?: number; column?: number }): ErrorTuple => {
  const t: [string, number?, number?] = [e.code];
  if (e.row !== undefined || e.column !== undefined) t.push(e.row);
  if (e.column !== undefined) t.push(e.column);
  return t;
};
const normalized = (t: ErrorTuple) => tuple({ code: t[0], row: t[1], column: t[2] });

async function expectRejected(t: TestService, res: request.Response, want: Rejected, before: Counts) {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: want.status, code: want.code });
  const errors = (res.body.errors ?? []) as Array<{
    code: string;
    row?: number;
    column?: number;
    message: string;
    check?: string;
    limit?: unknown;
  }>;
  expect(errors.map(tuple)).toEqual(want.errors.map(normalized));
  for (const [index, pattern] of want.hints ?? []) expect(errors[index]?.message).toMatch(pattern);
  if (want.checks) expect(errors.flatMap((e) => (e.check ? [e.check] : []))).toEqual(want.checks);
  if (want.limit) expect(errors[0]?.limit).toEqual(want.limit);
  expect(res.body.errors_total).toBe(errors.length);
  expect(((res.body.warnings ?? []) as Array<{ code: string }>).map((w) => w.code)).toEqual(
    want.warnings ?? [],
  );
  // Nothing was written: not the upload, not a version, not an alert, a notification or an audit entry.
  expect(await counts(t)).toEqual(before);
}

async function expectAccepted(
  t: TestService,
  u: Upload,
  res: request.Response,
  want: Accepted,
  before: Counts,
) {
  const body = res.body as Receipt;
  const bytes = fs.readFileSync(path.join(DIR, u.file));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  expect(body).toMatchObject({
    status: 'accepted',
    replayed: false,
    received_at: NOW.toISOString(),
    file_name: u.file,
    sha256,
    bytes: bytes.length,
    format: want.format,
    rows: want.rows,
    observations: want.observations,
    institutions: new Set(want.submissions.map(([i]) => i)).size,
    counts: {
      rows: want.rows,
      observations: want.observations,
      submissions: want.submissions.length,
      derived: want.derived,
      warnings: want.warnings.length,
      info: want.info.length,
    },
    submissions_total: want.submissions.length,
    explanation_required: want.warnings.length > 0 && u.explanation === undefined,
  });
  if (want.encoding) expect(body.encoding).toBe(want.encoding);
  else expect(body).not.toHaveProperty('encoding');
  if (want.sheet) expect(body.sheet).toBe(want.sheet);
  else expect(body).not.toHaveProperty('sheet');
  expect((body.warnings as Array<{ code: string }>).map((w) => w.code)).toEqual(want.warnings);
  expect((body.info as Array<{ code: string }>).map((i) => i.code)).toEqual(want.info);
  expect(body.submissions.map((s) => [s.institution, s.period])).toEqual(want.submissions);
  expect(body.submissions.reduce((n, s) => n + s.reported, 0)).toBe(want.reported);
  expect(body.submissions.reduce((n, s) => n + s.derived.length, 0)).toBe(want.derived);
  expect(res.headers.location).toBe(`/api/v1/uploads/${body.upload_id}`);

  // The database holds exactly what the receipt says.
  const db = t.db.db;
  const uploadRow = await db
    .selectFrom('uploads')
    .selectAll()
    .where('id', '=', body.upload_id)
    .executeTakeFirstOrThrow();
  expect(uploadRow).toMatchObject({
    file_name: u.file,
    file_sha256: sha256,
    format: want.format,
    row_count: want.rows,
    warning_count: want.warnings.length,
    explanation: u.explanation ?? null,
  });
  expect(Number(uploadRow.byte_count)).toBe(bytes.length);
  const stored = await db
    .selectFrom('submissions')
    .select(['id', 'institution_code', 'period', 'version', 'is_current', 'late'])
    .where('upload_id', '=', body.upload_id)
    .orderBy('id')
    .execute();
  expect(
    stored.map((s) => [Number(s.id), s.institution_code, s.period, s.version, s.is_current, s.late]),
  ).toEqual(body.submissions.map((s) => [s.id, s.institution, s.period, s.version, true, s.late]));
  for (const s of body.submissions) {
    if (s.supersedes === null) {
      expect(s.version).toBe(1);
      continue;
    }
    expect(s.supersedes).toBe(s.version - 1);
    const previous = await db
      .selectFrom('submissions')
      .select('is_current')
      .where('institution_code', '=', s.institution)
      .where('period', '=', s.period)
      .where('version', '=', s.supersedes)
      .executeTakeFirstOrThrow();
    expect(previous.is_current).toBe(false);
  }
  const observations = await db
    .selectFrom('observations as o')
    .innerJoin('submissions as s', 's.id', 'o.submission_id')
    .select(['o.derived', ({ fn }) => fn.countAll<string>().as('n')])
    .where('s.upload_id', '=', body.upload_id)
    .groupBy('o.derived')
    .execute();
  const observed = (derived: boolean) => Number(observations.find((o) => o.derived === derived)?.n ?? 0);
  expect([observed(false), observed(true)]).toEqual([want.reported, want.derived]);
  const audit = await db
    .selectFrom('audit_log')
    .select('details')
    .where('action', '=', 'submissions.create')
    .execute();
  expect(
    audit.filter((a) => (a.details as { upload_id?: number }).upload_id === body.upload_id),
  ).toHaveLength(1);
  const alerts = body.alerts as Array<{ id: number }>;
  if (alerts.length > 0) {
    const ids = await db
      .selectFrom('alerts')
      .select('id')
      .where(
        'id',
        'in',
        alerts.map((a) => a.id),
      )
      .execute();
    expect(ids).toHaveLength(new Set(alerts.map((a) => a.id)).size);
  }
  const after = await counts(t);
  expect({
    uploads: after.uploads - before.uploads,
    submissions: after.submissions - before.submissions,
    observations: after.observations - before.observations,
    audit_log: after.audit_log - before.audit_log,
  }).toEqual({
    uploads: 1,
    submissions: want.submissions.length,
    observations: want.reported + want.derived,
    audit_log: 1,
  });

  // The stored receipt is the one answered.
  const again = await request(t.app).get(`/api/v1/uploads/${body.upload_id}`).set(auth('admin')).expect(200);
  expect(receiptOf(again.body)).toEqual(receiptOf(body));
}

/** A receipt without the `id` and `version` shortcuts an answer about one submission may add. */
function receiptOf(body: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, version: _version, ...receipt } = body;
  return receipt;
}

describe('the ingest acceptance corpus through HTTP', () => {
  beforeAll(async () => {
    const clock = () => NOW;
    [main, limits] = await Promise.all([
      createTestService({ MAX_UPLOAD_ROWS: '100000', TIME_ZONE: 'Asia/Shanghai' }, clock),
      createTestService(
        { MAX_UPLOAD_BYTES: '200000', MAX_UPLOAD_ROWS: '10000', TIME_ZONE: 'Asia/Shanghai' },
        clock,
      ),
    ]);
    expect(isValidCreditCode(QZRCB001_CREDIT_CODE)).toBe(true);
    for (const institution of CORPUS_INSTITUTIONS) {
      await request(main.app).post('/api/v1/institutions').set(auth('admin')).send(institution).expect(201);
    }
    const key = await request(main.app)
      .post('/api/v1/keys')
      .set(auth('admin'))
      .send({ name: '石狮农商银行报送', role: 'institution', institution: 'QZRCB002' })
      .expect(201);
    tokens.QZRCB002 = key.body.token;
  });
  afterAll(async () => {
    await Promise.all([main?.close(), limits?.close()]);
  });

  it('has a case for every file of the corpus', () => {
    const files = fs.readdirSync(DIR).filter((f) => !/\.(ts|md)$/.test(f));
    const used = new Set(CASES.flatMap((c) => [c.file, ...(c.before ?? []).map((b) => b.file)]));
    expect(files.filter((f) => !used.has(f))).toEqual([]);
    expect([...used].filter((f) => !files.includes(f))).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [`${c.file}: ${c.name}`, c] as const))('%s', async (_, c) => {
    for (const b of c.before ?? []) {
      const ahead = await counts(serviceOf(b));
      const res = await upload(b);
      if (b.expect) {
        expect(res.status, `${b.file} beforehand: ${JSON.stringify(res.body)}`).toBe(201);
        await expectAccepted(serviceOf(b), b, res, b.expect, ahead);
      } else {
        expect([200, 201], `${b.file} beforehand: ${JSON.stringify(res.body)}`).toContain(res.status);
      }
    }
    const t = serviceOf(c);
    const before = await counts(t);
    const started = performance.now();
    const res = await upload(c);
    const elapsed = performance.now() - started;
    expect(res.status, JSON.stringify(res.body)).toBe(c.expect.status);
    if (c.withinMs !== undefined) expect(elapsed).toBeLessThan(c.withinMs);
    if (c.expect.status === 200) {
      // The first receipt, marked replayed; nothing written.
      const sha256 = createHash('sha256')
        .update(fs.readFileSync(path.join(DIR, c.file)))
        .digest('hex');
      expect(res.body).toMatchObject({ replayed: true, sha256 });
      const first = await request(t.app)
        .get(`/api/v1/uploads/${res.body.upload_id}`)
        .set(auth('admin'))
        .expect(200);
      expect(receiptOf(first.body)).toEqual({ ...receiptOf(res.body), replayed: false });
      expect(await counts(t)).toEqual(before);
    } else if (c.expect.status === 201) {
      await expectAccepted(t, c, res, c.expect, before);
    } else {
      await expectRejected(t, res, c.expect, before);
    }
    await c.andThen?.(res.body as Receipt, t);
  });

  it('counts the problems of every rejection in errors_total', async () => {
    const wrong: string[] = [];
    for (const c of CASES) {
      if (c.expect.status < 400 || c.before) continue;
      const res = await upload(c);
      const listed = Array.isArray(res.body.errors) ? res.body.errors.length : 0;
      if (res.body.errors_total !== listed) {
        wrong.push(
          `${c.file}: ${res.status} ${res.body.code}, ${listed} listed, errors_total ${res.body.errors_total}`,
        );
      }
    }
    expect(wrong.join('\n')).toBe('');
  });
});
