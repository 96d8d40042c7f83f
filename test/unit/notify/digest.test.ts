import { describe, expect, it } from 'vitest';
import { digestSubject } from '../../../src/notify/digest.subject.js';
import { renderDigest } from '../../../src/notify/digest.template.js';
import { digestAlerts, digestKey, groupKeyOf, threadOf } from '../../../src/notify/notification.group.js';
import type { AlertPayload, DigestPayload } from '../../../src/notify/notification.payload.js';
import { makePayload, makeRoute } from './notify.fixtures.js';

const OTHER = { code: 'QZ002', name: '晋江测试村镇银行', type: 'village_bank', county: '晋江市' };
const OPTIONS = { publicUrl: 'https://riskwatch.example.gov.cn/', timeZone: 'Asia/Shanghai' };

const firing = makePayload({ alertId: 1, eventId: 10 });
const warning = makePayload({
  alertId: 2,
  eventId: 11,
  severity: 'warning',
  institution: OTHER,
  value: 4.2,
  threshold: 4,
});
const resolved = makePayload({
  alertId: 3,
  eventId: 12,
  kind: 'resolved',
  severity: 'warning',
  value: 3.1,
  threshold: 4,
});

describe(groupKeyOf.name, () => {
  it('joins the route’s labels in its order', () => {
    expect(groupKeyOf(makeRoute({ name: 'r' }), firing)).toBe('institution=QZ001');
    expect(groupKeyOf(makeRoute({ name: 'r', group_by: ['county', 'rule'] }), firing)).toBe(
      'county=鲤城区,rule=npl_ratio_high',
    );
  });

  it('puts a regional alert in a group of its own', () => {
    const regional = makePayload({
      institution: null,
      region: { key: 'county:晋江市', name: { zh: '晋江市', en: 'Jinjiang' } },
    });
    expect(groupKeyOf(makeRoute({ name: 'r', group_by: ['institution', 'type'] }), regional)).toBe(
      'institution=region:county:晋江市,type=region:county:晋江市',
    );
  });
});

describe(digestKey.name, () => {
  it('depends on route, group and the set of events only', () => {
    const key = digestKey('supervisors', 'institution=QZ001', [3, 1, 2]);
    expect(digestKey('supervisors', 'institution=QZ001', [1, 2, 3, 3])).toBe(key);
    expect(key).toMatch(/^digest:supervisors:[0-9a-f]{32}$/);
    expect(digestKey('supervisors', 'institution=QZ001', [1, 2])).not.toBe(key);
    expect(digestKey('supervisors', 'institution=QZ002', [1, 2, 3])).not.toBe(key);
    expect(digestKey('banks', 'institution=QZ001', [1, 2, 3])).not.toBe(key);
  });
});

describe(digestAlerts.name, () => {
  it('keeps the latest event of each alert and puts active, severe alerts first', () => {
    const escalated = makePayload({
      alertId: 2,
      eventId: 20,
      kind: 'escalated',
      severity: 'critical',
      institution: OTHER,
    });
    const ordered = digestAlerts([resolved, warning, firing, escalated]);
    expect(ordered.map((a) => [a.alertId, a.kind])).toEqual([
      [1, 'firing'],
      [2, 'escalated'],
      [3, 'resolved'],
    ]);
  });
});

describe(threadOf.name, () => {
  it('threads per route and institution, and not a digest about several', () => {
    expect(threadOf('supervisors', [firing, resolved])).toBe('<thread.supervisors.QZ001@riskwatch>');
    expect(threadOf('banks', [firing])).toBe('<thread.banks.QZ001@riskwatch>');
    expect(threadOf('supervisors', [firing, warning])).toBeNull();
  });
});

describe(digestSubject.name, () => {
  it.each<[string, AlertPayload[], 'changes' | 'reminder', 'zh' | 'en', string]>([
    ['one institution', [firing], 'changes', 'zh', '[严重] 1 条预警 · 泉州测试农村商业银行'],
    [
      'two institutions',
      [firing, warning],
      'changes',
      'zh',
      '[严重] 2 条预警 · 泉州测试农村商业银行 等 2 家机构',
    ],
    [
      'two institutions',
      [firing, warning],
      'changes',
      'en',
      '[Critical] 2 alerts · 泉州测试农村商业银行 and 1 other institution',
    ],
    [
      'with a resolution',
      [warning, resolved],
      'changes',
      'zh',
      '[警告] 1 条预警，1 条解除 · 晋江测试村镇银行 等 2 家机构',
    ],
    ['resolutions only', [resolved], 'changes', 'zh', '[已解除] 1 条预警解除 · 泉州测试农村商业银行'],
    ['resolutions only', [resolved], 'changes', 'en', '[Resolved] 1 alert resolved · 泉州测试农村商业银行'],
    [
      'a reminder',
      [firing, warning],
      'reminder',
      'zh',
      '[提醒][严重] 2 条预警未确认 · 泉州测试农村商业银行 等 2 家机构',
    ],
    [
      'a reminder',
      [firing],
      'reminder',
      'en',
      '[Reminder][Critical] 1 unacknowledged alert · 泉州测试农村商业银行',
    ],
  ])('states severity, count and institutions: %s (%s, %s)', (_, alerts, mode, lang, expected) => {
    expect(digestSubject(alerts, mode, lang)).toBe(expected);
  });

  it('stays on one line whatever a name holds', () => {
    const odd = makePayload({ institution: { ...OTHER, name: '晋江\n村镇银行' } });
    expect(digestSubject([odd], 'changes', 'zh')).toBe('[严重] 1 条预警 · 晋江 村镇银行');
  });
});

describe(renderDigest.name, () => {
  const digest = (lang: 'zh' | 'en'): DigestPayload => ({
    v: 1,
    lang,
    kind: 'digest',
    mode: 'changes',
    route: 'supervisors',
    group: 'institution=QZ001',
    thread: null,
    at: '2026-11-28T02:15:00.000Z',
    alerts: [firing, { ...resolved, lang }].map((a) => ({ ...a, lang })),
  });

  it('says, in Chinese, what breached, by how much, since when, on what basis, with a link', () => {
    const mail = renderDigest(digest('zh'), OPTIONS);
    expect(mail.subject).toBe('[严重] 1 条预警，1 条解除 · 泉州测试农村商业银行');
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('泉州测试农村商业银行（QZ001），鲤城区');
      expect(part).toContain('不良贷款率（npl_ratio）');
      expect(part).toContain('5.42%（阈值 5%，相差 +0.42 个百分点）');
      expect(part).toContain('自 2026-09 起连续 2 期');
      expect(part).toContain('《商业银行风险监管核心指标（试行）》第九条');
      expect(part).toContain('https://riskwatch.example.gov.cn/api/v1/alerts/1');
      expect(part).toContain('https://riskwatch.example.gov.cn/api/v1/alerts/3');
    }
    expect(mail.text).toContain('1. 泉州测试农村商业银行 — 不良贷款率（严重，触发）');
    expect(mail.text).toContain('2. 泉州测试农村商业银行 — 不良贷款率（警告，解除）');
    expect(mail.html).toContain('<html lang="zh-CN">');
  });

  it('renders the same digest in English', () => {
    const mail = renderDigest(digest('en'), OPTIONS);
    expect(mail.subject).toBe('[Critical] 1 alert, 1 resolved · 泉州测试农村商业银行');
    expect(mail.text).toContain('Value: 5.42% (threshold 5%, difference +0.42 percentage points)');
    expect(mail.text).toContain('2 consecutive periods since 2026-09');
    expect(mail.text).toContain('NPL ratio (Critical, Firing)');
    expect(mail.html).toContain('<html lang="en-US">');
    expect(mail.html).toContain('View the alert');
  });

  it('escapes what it puts in HTML', () => {
    const evil = makePayload({ institution: { ...OTHER, name: '<script>x</script>' } });
    const mail = renderDigest({ ...digest('zh'), alerts: [evil] }, OPTIONS);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&#60;script&#62;');
  });

  it('says when each alert of a reminder started firing', () => {
    const mail = renderDigest(
      { ...digest('zh'), mode: 'reminder', alerts: [{ ...firing, firedAt: '2026-11-20T01:00:00.000Z' }] },
      OPTIONS,
    );
    expect(mail.subject).toBe('[提醒][严重] 1 条预警未确认 · 泉州测试农村商业银行');
    expect(mail.text).toContain('触发于：2026-11-20 09:00（Asia/Shanghai）');
  });
});
