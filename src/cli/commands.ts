import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsvRecords } from 'csv-parse/sync';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';
import { recordAudit } from '../audit/audit.repository.js';
import { type Principal, ROLES, type Role } from '../auth/api-key.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-key.repository.js';
import type { Config } from '../config/config.js';
import { formatProblems } from '../config/yaml-file.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import { AppError } from '../http/app-error.js';
import { decodeText } from '../ingest/decode.js';
import { ingestFile } from '../ingest/submission.service.js';
import { parseAttributeCell } from '../institutions/institution.attributes.js';
import { saveInstitutions } from '../institutions/institution.service.js';
import { flushDueGroups } from '../notify/digest.flush.js';
import { renderDigest } from '../notify/digest.template.js';
import { createMailer, messageIdFor } from '../notify/mail.transport.js';
import { LANGS, type Lang, MAX_GROUP_WAIT_MS } from '../notify/routes.js';
import { sampleDigest } from '../notify/sample.digest.js';
import { loadRuleTestFile, ruleTestFilesIn } from '../rules/rule-test.loader.js';
import { formatSuiteResult } from '../rules/rule-test.report.js';
import { runRuleTestSuite } from '../rules/rule-test.runner.js';
import { checkRulePaths } from '../rules/rules.check.js';
import { openServices, type Services } from '../service.js';

/** A CLI failure with the exit code to leave with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const CLI_PRINCIPAL: Principal = {
  keyId: 'cli',
  name: 'cli',
  role: 'admin',
  institution: null,
  email: null,
};

async function withServices<T>(config: Config, logger: Logger, fn: (s: Services) => Promise<T>): Promise<T> {
  const services = await openServices(config, logger);
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** Turns a request error into a CLI error (exit 2) listing every problem; rethrows anything else. */
export function describeAppError(error: unknown): never {
  if (error instanceof AppError) {
    const lines = error.errors.map(
      (e) =>
        `  ${e.row ? `row ${e.row}` : ''}${e.column ? ` column ${e.column}` : ''}${e.field ? ` (${e.field})` : ''}: [${e.code}] ${e.message}`,
    );
    throw new CliError([error.message, ...lines].join('\n'), 2);
  }
  throw error;
}

/** `migrate`: applies pending migrations. */
export async function migrateCommand(config: Config): Promise<string> {
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'pg'),
  });
  try {
    const applied = await migrateToLatest(handle.db as unknown as Kysely<unknown>);
    return applied.length > 0 ? `applied: ${applied.join(', ')}` : 'the database is up to date';
  } finally {
    await handle.close();
  }
}

/**
 * `rules check [paths…]`: validates rules folders (catalog, rule files and routes) and single files
 * (rule files, `catalog.yaml`, `recipients.yaml`, rule tests); every problem as `file:line: path:
 * message`, exit 1 if any. Rule files given alone are checked against the catalog beside them, or
 * else the one in `rulesDir`.
 */
export function rulesCheckCommand(paths: string | readonly string[], rulesDir = '.'): string {
  const report = checkRulePaths(typeof paths === 'string' ? [paths] : paths, rulesDir);
  if (report.problems.length > 0) throw new CliError(formatProblems(report.problems), 1);
  return report.summary.join('\n');
}

/**
 * `rules test <files or folders…>`: runs rule unit tests (`*.test.yaml`; a folder runs every one in
 * it). Exit 0 when every test passes, 1 when one fails (with a diff per failing step), 2 when a file
 * cannot be read or is invalid (every problem with file, line and column); the valid files still run.
 */
export function rulesTestCommand(paths: readonly string[]): string {
  if (paths.length === 0) throw new CliError('usage: rules test <file.test.yaml | folder>…', 2);
  const { files, problems } = ruleTestFilesIn(paths);
  const reports: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    const suite = loadRuleTestFile(file);
    if (!suite.ok) {
      problems.push(...suite.problems);
      continue;
    }
    const result = runRuleTestSuite(suite.value);
    for (const test of result.tests) {
      if (test.ok) passed++;
      else failed++;
    }
    reports.push(formatSuiteResult(result));
  }
  const total = `${passed + failed} tests`;
  const tally =
    failed > 0
      ? `FAILED: ${failed} of ${total} failed`
      : `${problems.length > 0 ? '' : 'OK: '}${total} passed`;
  const output = [...reports, ...(problems.length > 0 ? [formatProblems(problems)] : []), tally].join('\n');
  if (problems.length > 0) throw new CliError(output, 2);
  if (failed > 0) throw new CliError(output, 1);
  return output;
}

/**
 * `keys create --role R --name N [--institution C] [--email ADDRESS]`: prints the new token once. With
 * `--email`, receipts of the key's accepted uploads are e-mailed there.
 */
export async function keysCreateCommand(
  config: Config,
  logger: Logger,
  args: { role?: string; name?: string; institution?: string; email?: string },
): Promise<string> {
  if (!args.role || !(ROLES as readonly string[]).includes(args.role))
    throw new CliError(`--role must be one of ${ROLES.join(', ')}`, 2);
  if (!args.name) throw new CliError('--name is required', 2);
  if ((args.role === 'institution') !== (args.institution !== undefined))
    throw new CliError('--institution is required for institution keys and only for them', 2);
  if (args.email !== undefined && !z.email().safeParse(args.email).success)
    throw new CliError(`--email is not an e-mail address: ${args.email}`, 2);
  return withServices(config, logger, async ({ db }) => {
    const { key, token } = await db.transaction().execute(async (trx) => {
      if (
        args.institution !== undefined &&
        !(await trx
          .selectFrom('institutions')
          .select('code')
          .where('code', '=', args.institution)
          .executeTakeFirst())
      )
        throw new CliError(`unknown institution ${args.institution}`, 2);
      const created = await createApiKey(trx, {
        name: args.name as string,
        role: args.role as Role,
        institution: args.institution ?? null,
        email: args.email ?? null,
        createdBy: 'cli',
      });
      await recordAudit(trx, {
        actor: 'cli',
        action: 'keys.create',
        target: created.key.id,
        details: { name: args.name, role: args.role, email: args.email ?? null },
      });
      return created;
    });
    return `created key ${key.id} (${key.role}${key.institution ? ` for ${key.institution}` : ''}${key.email ? `, receipts to ${key.email}` : ''})\n${token}`;
  });
}

export async function keysListCommand(config: Config, logger: Logger): Promise<string> {
  return withServices(config, logger, async ({ db }) =>
    (await listApiKeys(db))
      .map(
        (k) =>
          `${k.id}  ${k.prefix}…  ${k.role.padEnd(11)} ${(k.institution ?? '-').padEnd(12)} ${k.name}${k.email ? `  <${k.email}>` : ''}${k.revokedAt ? `  (revoked ${k.revokedAt})` : ''}`,
      )
      .join('\n'),
  );
}

export async function keysRevokeCommand(
  config: Config,
  logger: Logger,
  id: string | undefined,
): Promise<string> {
  if (!id) throw new CliError('usage: keys revoke <id>', 2);
  return withServices(config, logger, async ({ db }) => {
    const done = await db.transaction().execute(async (trx) => {
      const ok = await revokeApiKey(trx, id, new Date());
      if (ok) await recordAudit(trx, { actor: 'cli', action: 'keys.revoke', target: id });
      return ok;
    });
    if (!done) throw new CliError(`no active key ${id}`);
    return `revoked ${id}`;
  });
}

/**
 * `institutions import <file>`: a CSV with code,name,type,county[,credit_code,established_on,attributes]
 * or a JSON array. A CSV's `attributes` cell lists attribute codes separated by `;` (each true), or
 * `code=true|false`.
 */
export async function institutionsImportCommand(
  config: Config,
  logger: Logger,
  file: string | undefined,
): Promise<string> {
  if (!file) throw new CliError('usage: institutions import <file.csv|file.json>', 2);
  const text = decodeText(fs.readFileSync(file)).text;
  const json = file.endsWith('.json');
  const items: unknown[] = json
    ? [JSON.parse(text)].flat()
    : (
        parseCsvRecords(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<
          string,
          string
        >[]
      ).map((r) =>
        Object.fromEntries(
          Object.entries(r)
            .filter(([, v]) => v !== '')
            .map(([k, v]) => (k === 'attributes' ? [k, parseAttributeCell(v)] : [k, v])),
        ),
      );
  return withServices(config, logger, async (s) => {
    // In a CSV the header is row 1, as in observation uploads; a JSON array counts items from 1.
    const result = await saveInstitutions(s.db, s.rules.current().catalog, items, 'cli', json ? 1 : 2).catch(
      describeAppError,
    );
    return `institutions: ${result.created} created, ${result.updated} updated`;
  });
}

/**
 * `import <file> [--sheet NAME]`: imports a CSV or XLSX file as an admin would, through the same
 * streaming validation and one atomic transaction as the upload endpoint; prints the receipt.
 */
export async function importCommand(
  config: Config,
  logger: Logger,
  file: string | undefined,
  options: { sheet?: string | undefined } = {},
): Promise<string> {
  if (!file) throw new CliError('usage: import <file.csv|file.xlsx> [--sheet NAME]', 2);
  if (!fs.existsSync(file)) throw new CliError(`no such file: ${file}`, 2);
  return withServices(config, logger, async (s) => {
    const receipt = await ingestFile(
      { db: s.db, snapshot: () => s.rules.current(), logger },
      { path: file, name: path.basename(file) },
      CLI_PRINCIPAL,
      new Date(),
      {
        sheet: options.sheet,
        limits: config.uploadLimits,
      },
    ).catch(describeAppError);
    // One import is one transaction: its changes are all there, so its digests need not wait for
    // group_wait (this process is about to exit, and a PGlite data folder has no server to send later).
    await flushDueGroups(s.db, new Date(), { dueBy: new Date(Date.now() + MAX_GROUP_WAIT_MS) });
    await s.dispatcher.kick();
    return JSON.stringify(receipt, null, 2);
  });
}

/**
 * `notify test --to <address> [--lang zh|en]` (or `notify test <address>`): renders a sample digest
 * and sends it through the configured transport (SMTP, or `.eml` files without `SMTP_URL`), so that
 * the relay settings are checked with a real e-mail. Reports the relay's answer as it gave it: a
 * refusal exits 1 saying whether it was temporary or permanent, with the SMTP code and text.
 */
export async function notifyTestCommand(
  config: Config,
  _logger: Logger,
  args: { to?: string | undefined; lang?: string | undefined },
): Promise<string> {
  const usage = 'usage: notify test --to <address> [--lang zh|en]';
  if (!args.to) throw new CliError(usage, 2);
  if (!z.email().safeParse(args.to).success)
    throw new CliError(`--to is not an e-mail address: ${args.to}\n${usage}`, 2);
  const lang = args.lang ?? 'zh';
  if (!(LANGS as readonly string[]).includes(lang))
    throw new CliError(`--lang must be one of ${LANGS.join(', ')}`, 2);
  const now = new Date();
  const mail = renderDigest(sampleDigest(lang as Lang, now), {
    publicUrl: config.publicUrl,
    timeZone: config.timeZone,
  });
  // Only the transport is needed: no database, so it also checks a relay before the first deployment.
  const mailer = createMailer({
    smtpUrl: config.smtpUrl,
    outboxDir: config.outboxDir,
    from: config.mailFrom,
  });
  try {
    const result = await mailer.send({
      to: [args.to],
      subject: `[TEST] ${mail.subject}`,
      text: mail.text,
      html: mail.html,
      messageId: messageIdFor(`test:${now.toISOString()}:${process.pid}`),
      headers: { 'Auto-Submitted': 'auto-generated', 'X-RiskWatch-Test': 'yes' },
    });
    if (!result.ok)
      throw new CliError(
        `sending to ${args.to} failed (${result.retryable ? 'temporary: the relay may accept it later' : 'permanent: the relay refused it'}): ${result.reason}`,
      );
    if (result.rejected?.length)
      throw new CliError(`the relay refused ${result.rejected.join(', ')} (${result.messageId})`);
    return config.smtpUrl
      ? `sent a sample digest to ${args.to} through ${redactUrl(config.smtpUrl)} (${result.messageId})`
      : `no SMTP_URL: wrote a sample digest for ${args.to} to ${config.outboxDir} (${result.messageId})`;
  } finally {
    mailer.close();
  }
}

/** A relay URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the relay';
  }
}
