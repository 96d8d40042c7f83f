import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer } from '../../../src/notify/mail.transport.js';
import { AT } from '../../unit/notify/notify.fixtures.js';

const FROM = 'RiskWatch <riskwatch@example.gov.cn>';
const addresses = (field: ParsedMail['to']) =>
  (Array.isArray(field) ? field : field ? [field] : []).flatMap((a) => a.value.map((v) => v.address));

describe('e-mail without a relay', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'riskwatch-outbox-'));
  });
  afterAll(async () => fs.rm(dir, { recursive: true, force: true }));

  it('writes each message as a complete .eml file that parses back', async () => {
    const outboxDir = path.join(dir, 'outbox');
    const mailer = createMailer({ outboxDir, from: FROM, clock: () => AT });
    const message = {
      to: ['supervision@example.gov.cn'],
      subject: '[RiskWatch][严重][触发] 测试',
      text: '不良贷款率 5.42%',
      html: '<p>不良贷款率 5.42%</p>',
      messageId: '<7.supervisors@riskwatch>',
      headers: { 'X-RiskWatch-Route': 'supervisors' },
    };
    expect(await mailer.send(message)).toEqual({ ok: true, messageId: '<7.supervisors@riskwatch>' });
    mailer.close();

    const files = await fs.readdir(outboxDir);
    expect(files).toEqual(['20261128T021500000Z-7.supervisors.eml']);
    const parsed = await simpleParser(await fs.readFile(path.join(outboxDir, files[0] ?? '')));
    expect(parsed.subject).toBe(message.subject);
    expect(addresses(parsed.to)).toEqual(message.to);
    expect(parsed.messageId).toBe(message.messageId);
    expect(parsed.text?.trim()).toBe(message.text);
    expect(parsed.html).toBe(message.html);
    expect(parsed.headers.get('x-riskwatch-route')).toBe('supervisors');
  });

  it('reports an unwritable outbox folder as retryable, leaving no partial file', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    await fs.writeFile(blocker, '');
    const mailer = createMailer({ outboxDir: blocker, from: FROM });
    const result = await mailer.send({
      to: ['a@example.gov.cn'],
      subject: 's',
      text: 't',
      html: 't',
      messageId: '<1.a@riskwatch>',
    });
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect((await fs.readdir(dir)).sort()).toEqual(['not-a-folder', 'outbox']);
  });
});
