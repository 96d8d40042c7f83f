import { describe, expect, it } from 'vitest';
import { renderReceiptEmail } from '../../../src/notify/receipt.template.js';
import { makeReceiptPayload } from './notify.fixtures.js';

const OPTIONS = { publicUrl: 'https://riskwatch.example.gov.cn/', timeZone: 'Asia/Shanghai' };
const LINK = 'https://riskwatch.example.gov.cn/api/v1/uploads/12';

describe(renderReceiptEmail.name, () => {
  it('renders a receipt in Chinese with an English line below the heading', () => {
    const mail = renderReceiptEmail(makeReceiptPayload(), OPTIONS);
    expect(mail.subject).toBe('RiskWatch 回执 #12: 已接收 晋江农商行 2026年10月.csv (2 份报送, 1 条警告)');
    const lines = mail.text.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      '报送回执：已接收 晋江农商行 2026年10月.csv',
      `Receipt #12: accepted 晋江农商行 2026年10月.csv, 2 submissions, 1 warning. Details: ${LINK}`,
    ]);
    for (const line of [
      '回执编号：#12',
      '接收时间：2026-11-28 10:15（Asia/Shanghai）',
      '上传者：晋江农商行报送',
      '格式：csv-wide',
      `SHA-256：${'a'.repeat(64)}`,
      '机构数：1',
      '期间：2026-09、2026-10',
      '数量：2 行，8 个报送值（另派生 4 个），2 份报送（其中逾期 1 份），1 条警告',
      '写入的版本：',
      '- QZ001 2026-09 第 2 版（逾期报送）',
      '- QZ001 2026-10 第 1 版',
      '警告（需要说明）：',
      '- 第 3 行第 4 列：[jump_from_previous] total_loans 9000 is more than 5× the previous period (1000)',
      `请对上述警告作出说明：POST ${LINK}/explanation`,
      `查看回执：${LINK}`,
    ]) {
      expect(lines).toContain(line);
    }
    expect(mail.html).toContain('<html lang="zh-CN">');
    expect(mail.html).toContain(`<a href="${LINK}">查看回执</a>`);
    expect(mail.html).toContain('<li>QZ001 2026-09 第 2 版（逾期报送）</li>');
  });

  it('renders in English without a second language', () => {
    const payload = { ...makeReceiptPayload(), lang: 'en' as const };
    const mail = renderReceiptEmail(payload, OPTIONS);
    expect(mail.subject).toBe(
      'RiskWatch receipt #12: accepted 晋江农商行 2026年10月.csv (2 submissions, 1 warning)',
    );
    expect(mail.text.split('\n')[1]).toBe('');
    expect(mail.text).toContain(
      'Counts: 2 rows, 8 values reported (4 derived), 2 submissions (1 late), 1 warning',
    );
    expect(mail.text).toContain('- QZ001 2026-09 version 2 (filed late)');
    expect(mail.text).toContain('Warnings (to be explained):');
    expect(mail.text).toContain('- row 3, column 4: [jump_from_previous]');
    expect(mail.html).toContain('<html lang="en-US">');
  });

  it('counts the versions and warnings it does not list', () => {
    const mail = renderReceiptEmail(
      makeReceiptPayload({
        counts: { rows: 60, observations: 60, submissions: 25, derived: 0, late: 0, warnings: 31 },
      }),
      OPTIONS,
    );
    expect(mail.text).toContain('- ……另有 23 项，见回执');
    expect(mail.text).toContain('- ……另有 30 项，见回执');
  });

  it('says the warnings are explained, and asks nothing, once an explanation came with the upload', () => {
    const mail = renderReceiptEmail(makeReceiptPayload({ explanation_required: false }), OPTIONS);
    expect(mail.text).toContain('警告（已附说明）：');
    expect(mail.text).not.toContain('/explanation');
  });

  it('leaves out the lists an upload has nothing for', () => {
    const mail = renderReceiptEmail(
      makeReceiptPayload({
        warnings: [],
        counts: { rows: 1, observations: 1, submissions: 2, derived: 0, late: 0, warnings: 0 },
        explanation_required: false,
      }),
      OPTIONS,
    );
    expect(mail.subject).toContain('(2 份报送, 0 条警告)');
    expect(mail.text).not.toContain('警告（');
    expect(mail.html).not.toContain('警告（');
  });

  it('names a JSON upload, which has no file name', () => {
    const mail = renderReceiptEmail(makeReceiptPayload({ file_name: null }), OPTIONS);
    expect(mail.subject).toBe('RiskWatch 回执 #12: 已接收 JSON 数据 (2 份报送, 1 条警告)');
  });

  it('keeps an uploaded file name on one line, short, and escaped in HTML', () => {
    const mail = renderReceiptEmail(
      makeReceiptPayload({ file_name: `<b>x</b>\r\nBcc: a@b.c${'长'.repeat(200)}.csv` }),
      OPTIONS,
    );
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toMatch(/^RiskWatch 回执 #12: 已接收 <b>x<\/b> Bcc: a@b\.c长+… \(/);
    expect(mail.html).not.toContain('<b>x</b>');
    expect(mail.html).toContain('&#60;b&#62;x&#60;/b&#62;');
  });

  it('is deterministic', () => {
    expect(renderReceiptEmail(makeReceiptPayload(), OPTIONS)).toEqual(
      renderReceiptEmail(makeReceiptPayload(), OPTIONS),
    );
  });
});
