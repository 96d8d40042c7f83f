import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createTestService, type TestService } from '../support/service.js';

const admin = { Authorization: `Bearer ${ADMIN}` };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
// 10 July 2024 in Shanghai: the latest ended month is June, a quarter's last.
const NOW = new Date('2024-07-10T02:00:00Z');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Collects a response body as bytes, whatever its type. */
function bytes(res: request.Response, callback: (error: Error | null, body: Buffer) => void) {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

describe('GET /api/v1/templates/:institutionType', () => {
  let t: TestService;
  let ownKey: string;
  let supervisorKey: string;
  const download = (path: string, headers: Record<string, string> = admin) =>
    request(t.app).get(`/api/v1/templates/${path}`).set(headers).buffer(true).parse(bytes);
  const csvRecords = (body: Buffer) => parse(body, { bom: true }) as string[][];
  const workbook = async (body: Buffer) => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(body as unknown as ExcelJS.Buffer);
    return wb;
  };

  beforeAll(async () => {
    t = await createTestService({ TIME_ZONE: 'Asia/Shanghai' }, () => NOW);
    await request(t.app)
      .post('/api/v1/institutions')
      .set(admin)
      .send({ code: 'QZRCB01', name: '晋江农村商业银行', type: 'rural_commercial_bank', county: '晋江市' })
      .expect(201);
    const keyFor = async (body: object) =>
      (await request(t.app).post('/api/v1/keys').set(admin).send(body).expect(201)).body.token as string;
    ownKey = await keyFor({ name: 'filer', role: 'institution', institution: 'QZRCB01' });
    supervisorKey = await keyFor({ name: 'sup', role: 'supervisor' });
  });
  afterAll(async () => t.close());

  it('serves CSV as UTF-8 with a BOM and CRLF line ends, header and prefilled row', async () => {
    const res = await download('rural_commercial_bank?format=csv&lang=zh&period=2024-05').expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="?riskwatch-template-rural_commercial_bank-2024-05-zh\.csv"?$/,
    );
    const body = res.body as Buffer;
    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(body.toString('utf8').split('\r\n')).toHaveLength(3);
    const [header, row, ...rest] = csvRecords(body);
    expect(rest).toEqual([]);
    expect(header?.slice(0, 4)).toEqual([
      '机构代码',
      '报告期',
      '各项贷款余额（万元）',
      '贷款损失准备（万元）',
    ]);
    expect(header).toContain('不良贷款余额（万元）');
    expect(header).toContain('资本充足率（%）');
    expect(row).toEqual(['', '2024-05', ...(header ?? []).slice(2).map(() => '')]);
  });

  it('writes English headers and, without a period, the latest ended month in the regulator’s zone', async () => {
    const res = await download('microloan?format=csv&lang=en').expect(200);
    expect(res.headers['content-disposition']).toContain('riskwatch-template-microloan-2024-06-en.csv');
    const header = [
      'institution',
      'period',
      'Net assets (CNY 10k)',
      'Non-standard funding (CNY 10k)',
      'Standardised debt funding (CNY 10k)',
      'Balance of the largest borrower (CNY 10k)',
      'Balance of the largest borrower with its related parties (CNY 10k)',
      'Total funding (CNY 10k)',
      'Funding leverage (times)',
      'Non-standard funding leverage (times)',
      'Standardised funding leverage (times)',
      'Single borrower to net assets (%)',
      'Borrower and related parties to net assets (%)',
    ];
    expect(csvRecords(res.body)).toEqual([header, ['', '2024-06', ...header.slice(2).map(() => '')]]);
  });

  it('serves XLSX with a data sheet (bold frozen header, text period) and a notes sheet', async () => {
    const res = await download('rural_commercial_bank?format=xlsx&lang=zh', bearer(ownKey)).expect(200);
    expect(res.headers['content-type']).toBe(XLSX);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="?riskwatch-template-rural_commercial_bank-2024-06-zh\.xlsx"?$/,
    );
    const wb = await workbook(res.body);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['数据', '说明']);
    const data = wb.getWorksheet('数据') as ExcelJS.Worksheet;
    expect(data.getCell('A1').value).toBe('机构代码');
    expect(data.getCell('C1').value).toBe('各项贷款余额（万元）');
    expect(data.getCell('A1').font?.bold).toBe(true);
    expect(data.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(data.getCell('A2').value).toBe('QZRCB01');
    const period = data.getCell('B2');
    expect(period.value).toBe('2024-06');
    expect(period.type).toBe(ExcelJS.ValueType.String);
    expect(period.numFmt).toBe('@');
    expect(data.getColumn(3).width).toBeGreaterThan(10);

    const notes = wb.getWorksheet('说明') as ExcelJS.Worksheet;
    expect(notes.getRow(1).values).toEqual([
      undefined,
      '指标代码',
      '指标名称',
      '单位',
      '报送频度',
      '取值范围',
      '计算公式',
      '备注',
    ]);
    const npl = notes.getColumn(1).values.indexOf('npl_ratio');
    expect(notes.getRow(npl).values).toEqual(
      expect.arrayContaining(['不良贷款率', '%', '月度', '0 – 100', 'npl_balance / total_loans * 100.0']),
    );
  });

  it('names the sheets in English for lang=en and defaults to XLSX', async () => {
    const res = await download('pawn?lang=en').expect(200);
    expect(res.headers['content-type']).toBe(XLSX);
    const wb = await workbook(res.body);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Data', 'Notes']);
  });

  it('prefills an institution key’s own code only in its own type’s template', async () => {
    const own = await download('rural_commercial_bank?format=csv', bearer(ownKey)).expect(200);
    expect(csvRecords(own.body)[1]?.[0]).toBe('QZRCB01');
    const other = await download('microloan?format=csv', bearer(ownKey)).expect(200);
    expect(csvRecords(other.body)[1]?.[0]).toBe('');
    const supervisor = await download('rural_commercial_bank?format=csv', bearer(supervisorKey)).expect(200);
    expect(csvRecords(supervisor.body)[1]?.[0]).toBe('');
  });

  it('answers 404 for a type the catalog does not know', async () => {
    const res = await request(t.app).get('/api/v1/templates/bank').set(admin).expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'unknown_institution_type' });
  });

  it.each([
    ['format=pdf', 'format'],
    ['lang=fr', 'lang'],
    ['period=2024-13', 'period'],
    ['period=2024-Q2', 'period'],
    ['period=24-06', 'period'],
    ['sheet=1', ''],
  ])('answers 400 for %s', async (query, field) => {
    const res = await request(t.app).get(`/api/v1/templates/microloan?${query}`).set(admin).expect(400);
    expect(res.body).toMatchObject({ code: 'invalid_parameter' });
    if (field) expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
  });

  it('requires a key', async () => {
    await request(t.app).get('/api/v1/templates/microloan').expect(401);
  });

  describe('round trip: the downloaded CSV, filled in, is accepted by the upload', () => {
    /** Fills the prefilled row of a downloaded template, by the metrics' Chinese names, and re-joins it. */
    const fill = (template: Buffer, values: Record<string, number>) => {
      const [header = [], row = []] = csvRecords(template);
      const filled = row.map((cell, i) => {
        const name = header[i]?.replace(/（[^）]*）$/, '') ?? '';
        return name in values ? String(values[name]) : cell;
      });
      const [headerLine] = template.toString('utf8').split('\r\n');
      return Buffer.from(`${headerLine}\r\n${filled.join(',')}\r\n`, 'utf8');
    };

    it('for a month inside a quarter, with the monthly balances', async () => {
      const template = (await download('rural_commercial_bank?format=csv&period=2024-05', bearer(ownKey)))
        .body;
      const file = fill(template, {
        不良贷款余额: 18500,
        各项贷款余额: 1250000,
        贷款损失准备: 42000,
        流动性比例: 58.6,
      });
      const res = await request(t.app)
        .post('/api/v1/submissions')
        .set(bearer(ownKey))
        .attach('file', file, 'riskwatch-template-rural_commercial_bank-2024-05-zh.csv');
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.submissions).toEqual([
        expect.objectContaining({ institution: 'QZRCB01', period: '2024-05', reported: 4 }),
      ]);
      expect(res.body.submissions[0].derived).toEqual(
        expect.arrayContaining(['npl_ratio', 'provision_coverage_ratio', 'loan_provision_ratio']),
      );
    });

    it('for the XLSX workbook, filled in Excel-like with numbers under the text period', async () => {
      const wb = await workbook(
        (await download('rural_commercial_bank?format=xlsx&period=2024-04', bearer(ownKey))).body,
      );
      const data = wb.worksheets[0] as ExcelJS.Worksheet;
      const values: Record<string, number> = {
        不良贷款余额: 18200,
        各项贷款余额: 1241000,
        贷款损失准备: 41800,
      };
      data.getRow(1).eachCell((cell, column) => {
        const value = values[String(cell.value).replace(/（[^）]*）$/, '')];
        if (value !== undefined) data.getRow(2).getCell(column).value = value;
      });
      const file = Buffer.from(await wb.xlsx.writeBuffer());
      const res = await request(t.app)
        .post('/api/v1/submissions')
        .set(bearer(ownKey))
        .attach('file', file, 'riskwatch-template-rural_commercial_bank-2024-04-zh.xlsx');
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.submissions).toEqual([
        expect.objectContaining({ institution: 'QZRCB01', period: '2024-04', reported: 3 }),
      ]);
    });

    it('for a quarter’s last month, with the quarterly capital figures too', async () => {
      const template = (await download('rural_commercial_bank?format=csv', bearer(ownKey))).body;
      const file = fill(template, {
        不良贷款余额: 18800,
        各项贷款余额: 1262000,
        贷款损失准备: 42500,
        流动性比例: 57.9,
        资本净额: 165000,
        风险加权资产: 1180000,
        一级资本充足率: 11.9,
        核心一级资本充足率: 10.8,
      });
      const res = await request(t.app)
        .post('/api/v1/submissions')
        .set(bearer(ownKey))
        .attach('file', file, 'riskwatch-template-rural_commercial_bank-2024-06-zh.csv');
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.submissions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ institution: 'QZRCB01', period: '2024-06' }),
          expect.objectContaining({ institution: 'QZRCB01', period: '2024-Q2' }),
        ]),
      );
    });
  });
});
