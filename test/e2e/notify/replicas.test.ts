import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/database.js';
import { migrateToLatest } from '../../../src/db/migrator.js';
import type { Database } from '../../../src/db/schema.js';
import { TestSmtpServer } from '../../support/smtp.js';

const URL_ = process.env.TEST_DATABASE_URL;
const TSX = path.resolve('node_modules/.bin/tsx');
const ADMIN = 'replica-admin-token';
const REPLICAS = 3;
const INSTITUTIONS = Array.from({ length: 24 }, (_, i) => ({
  code: `QZR${String(i).padStart(2, '0')}`,
  name: `测试农商行${i}`,
  type: 'rural_commercial_bank',
  county: ['晋江市', '石狮市', '南安市'][i % 3] as string,
}));
const RECIPIENTS = `
routes:
  - name: desk
    to: [desk@example.gov.cn]
    group_wait: 2s
  - name: counties
    match: { severities: [critical] }
    to: [county@example.gov.cn]
    group_by: [county]
    group_wait: 3s
`;

interface Replica {
  readonly child: ChildProcess;
  readonly port: number;
  output(): string;
  readonly exited: Promise<number | null>;
}

/**
 * Three `riskwatch serve` processes on one PostgreSQL schema, every cron job every second or so, and a
 * burst of uploads spread over them: every notification must reach the relay exactly once, and every
 * cron slot must run once, counted from the claims in PostgreSQL and from the replicas' own logs.
 */
describe.skipIf(!URL_)(
  'three replicas on one PostgreSQL (skipped without TEST_DATABASE_URL: the embedded database is single-process)',
  () => {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const smtp = new TestSmtpServer();
    const replicas: Replica[] = [];
    let db: Kysely<Database>;
    let closeDb: () => Promise<void>;
    let rulesDir: string;

    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: URL_ });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const handle = await openDatabase({
        databaseUrl: URL_,
        pgOptions: { options: `-c search_path=${schema}`, max: 4 },
      });
      // Migrated once here: three processes migrating one empty schema at once would race on its tables.
      await migrateToLatest(handle.db as unknown as Kysely<unknown>);
      db = handle.db;
      closeDb = handle.close;
      rulesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-replica-rules-'));
      for (const f of fs.readdirSync('rules'))
        if (f.endsWith('.yaml') && f !== 'recipients.yaml')
          fs.copyFileSync(path.join('rules', f), path.join(rulesDir, f));
      fs.writeFileSync(path.join(rulesDir, 'recipients.yaml'), RECIPIENTS);
      const databaseUrl = new URL(URL_ as string);
      databaseUrl.searchParams.set('options', `-c search_path=${schema}`);
      const smtpUrl = await smtp.start();
      for (let i = 0; i < REPLICAS; i++)
        replicas.push(await start(databaseUrl.toString(), smtpUrl, rulesDir));
    }, 120_000);

    afterAll(async () => {
      for (const r of replicas) {
        try {
          if (r.child.pid) process.kill(-r.child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await closeDb?.();
      const admin = new pg.Client({ connectionString: URL_ });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      await smtp.stop();
      if (rulesDir) fs.rmSync(rulesDir, { recursive: true, force: true });
    });

    it('sends every notification exactly once and runs every cron slot once', async () => {
      const api = (i: number, route: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${replicas[i % REPLICAS]?.port}/api/v1${route}`, {
          ...init,
          headers: { Authorization: `Bearer ${ADMIN}`, ...(init.headers ?? {}) },
        });
      const created = await api(0, '/institutions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(INSTITUTIONS),
      });
      expect(created.status).toBe(201);

      // The burst: two months per institution, uploaded at once across the replicas, in two waves.
      const upload = (i: number, period: string, value: number) => {
        const form = new FormData();
        const csv = `institution,period,metric,value\n${INSTITUTIONS[i]?.code},${period},npl_ratio,${value}\n`;
        form.append('file', new Blob([csv], { type: 'text/csv' }), `${i}-${period}.csv`);
        return api(i, '/submissions', { method: 'POST', body: form });
      };
      const first = await Promise.all(INSTITUTIONS.map((_, i) => upload(i, '2024-06', 6.5)));
      expect(first.map((r) => r.status)).toEqual(Array(INSTITUTIONS.length).fill(201));
      const second = await Promise.all(
        INSTITUTIONS.map((_, i) => upload(i, '2024-07', i % 2 === 0 ? 1.2 : 7)),
      );
      expect(second.map((r) => r.status)).toEqual(Array(INSTITUTIONS.length).fill(201));

      // Wait until every item is in a digest and every digest is sent.
      await waitFor(async () => {
        const waiting = await db
          .selectFrom('notification_items')
          .select('id')
          .where('digest_id', 'is', null)
          .execute();
        const unsent = await db
          .selectFrom('notification_outbox')
          .select('id')
          .where('status', '!=', 'sent')
          .execute();
        const items = await db.selectFrom('notification_items').select('id').execute();
        return items.length > 0 && waiting.length === 0 && unsent.length === 0 ? true : undefined;
      }, 60_000);

      // Exactly once: one message per outbox row, and across a route's digests every alert event once.
      const outbox = await db.selectFrom('notification_outbox').selectAll().execute();
      const mails = await smtp.parsed();
      expect(mails).toHaveLength(outbox.length);
      expect(new Set(mails.map((m) => m.messageId)).size).toBe(mails.length);
      expect(mails.map((m) => m.messageId).sort()).toEqual(outbox.map((r) => r.message_id).sort());
      const items = await db
        .selectFrom('notification_items')
        .select(['route', 'event_id', 'digest_id'])
        .execute();
      // 24 firings (desk and counties), then 12 resolutions and 0 changes for the 12 still breaching.
      expect(items.filter((i) => i.route === 'desk')).toHaveLength(24 + 12);
      expect(items.filter((i) => i.route === 'counties')).toHaveLength(24 + 12);
      for (const route of ['desk', 'counties']) {
        const inMails = outbox
          .filter((r) => r.route === route)
          .flatMap((r) => (r.payload as { alerts: { eventId: number }[] }).alerts.map((a) => a.eventId));
        const events = items.filter((i) => i.route === route).map((i) => i.event_id);
        // An alert that fired and resolved within one wait shows once; every other event shows once.
        expect(new Set(inMails).size).toBe(inMails.length);
        for (const id of inMails) expect(events).toContain(id);
      }
      const desk = mails.filter((m) => m.rcpt.includes('desk@example.gov.cn'));
      expect(desk.length).toBeGreaterThanOrEqual(INSTITUTIONS.length);

      // Let the schedule run a little longer, then stop every replica gracefully and count.
      await new Promise((r) => setTimeout(r, 3000));
      await Promise.all(
        replicas.map(async (r) => {
          r.child.kill('SIGTERM');
          expect(await r.exited).toBe(0);
        }),
      );
      const claims = await db.selectFrom('job_runs').selectAll().execute();
      const ran = replicas.flatMap((r) =>
        r
          .output()
          .split('\n')
          .filter((l) => l.includes('"job slot ran"'))
          .map((l) => (JSON.parse(l) as { slot: string }).slot),
      );
      const bySlot = new Map<string, number>();
      for (const slot of ran) bySlot.set(slot, (bySlot.get(slot) ?? 0) + 1);
      expect([...bySlot.values()].filter((n) => n > 1)).toEqual([]);
      expect(ran.length).toBe(claims.length);
      expect(new Set(ran)).toEqual(new Set(claims.map((c) => c.slot)));
      expect(claims.every((c) => c.finished_at !== null)).toBe(true);
      for (const job of ['dispatch', 'notify-schedules', 'evaluate'])
        expect(claims.filter((c) => c.slot.startsWith(`${job}:`)).length, job).toBeGreaterThan(1);
      // The slots were shared out: more than one replica ran some.
      expect(new Set(claims.map((c) => c.claimed_by)).size).toBeGreaterThan(1);
    }, 150_000);
  },
);

async function start(databaseUrl: string, smtpUrl: string, rulesDir: string): Promise<Replica> {
  const child = spawn(TSX, ['src/main.ts', 'serve'], {
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      PORT: '0',
      DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'riskwatch-replica-')),
      DATABASE_URL: databaseUrl,
      SMTP_URL: smtpUrl,
      ADMIN_TOKEN: ADMIN,
      RULES_DIR: rulesDir,
      LOG_LEVEL: 'debug',
      DISPATCH_CRON: '* * * * * *',
      NOTIFY_SCHEDULE_CRON: '* * * * * *',
      EVALUATION_CRON: '*/2 * * * * *',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await waitFor(
    () => /"port":(\d+)[^\n]*RiskWatch is listening/.exec(output)?.[1],
    40_000,
  ).catch((error: unknown) => {
    throw new Error(`a replica did not start: ${String(error)}\n${output}`);
  });
  return { child, port: Number(port), output: () => output, exited };
}

async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up after ${ms} ms`);
}
