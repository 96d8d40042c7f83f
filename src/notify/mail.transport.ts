import fs from 'node:fs/promises';
import path from 'node:path';
import type { Transporter } from 'nodemailer';

/** One e-mail to deliver. */
export interface OutgoingMessage {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Full Message-ID with angle brackets; see {@link messageIdFor}. */
  readonly messageId: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Outcome of one delivery, as a value: only `retryable` failures are tried again. `rejected` lists
 * recipients the relay refused while it accepted the others (the e-mail counts as sent).
 */
export type SendResult =
  | { readonly ok: true; readonly messageId: string; readonly rejected?: readonly string[] }
  | { readonly ok: false; readonly retryable: boolean; readonly reason: string };

/** Sends e-mails. Never throws for a delivery failure; it returns it. */
export interface Mailer {
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): void;
}

export interface MailerOptions {
  /** `smtp://` or `smtps://` relay URL; without it e-mails are written as `.eml` files. */
  readonly smtpUrl?: string | undefined;
  /** Folder for `.eml` files when there is no relay. */
  readonly outboxDir: string;
  /** The From header, e.g. `RiskWatch <riskwatch@example.gov.cn>`. */
  readonly from: string;
  /** Clock for `.eml` file names; injected for tests. */
  readonly clock?: () => Date;
}

/**
 * A deterministic Message-ID for an outbox idempotency key, so a re-send after a crash carries the
 * same ID and receivers can spot the duplicate. The mapping is one-to-one: `:` becomes `.`, other
 * characters outside `[A-Za-z0-9_-]` become `=XX` UTF-8 hex (and `=` itself `=3D`).
 */
export function messageIdFor(idempotencyKey: string): string {
  const local = Array.from(new TextEncoder().encode(idempotencyKey), (byte) => {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9_-]/.test(c)) return c;
    if (c === ':') return '.';
    return `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  return `<${local}@riskwatch>`;
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
}

/**
 * Classifies a nodemailer failure. A 5xx reply refuses this message for good (RFC 5321), except
 * 503 (a session out of step, fine on a new connection) and a refused login (the relay's
 * credentials are wrong for every message, so keep them queued until an operator fixes them).
 * 4xx replies, connection errors and timeouts are transient. A missing envelope is permanent.
 */
export function classifySmtpError(error: unknown): { retryable: boolean; reason: string } {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as SmtpError;
  const reason = `${e.code ? `${e.code}: ` : ''}${e.response ?? e.message ?? 'unknown error'}`.slice(0, 1000);
  const auth = e.code === 'EAUTH' || e.code === 'ENOAUTH' || /^AUTH\b/i.test(e.command ?? '');
  if (e.responseCode !== undefined) {
    const permanent = e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503 && !auth;
    return { retryable: !permanent, reason };
  }
  return { retryable: e.code !== 'EENVELOPE', reason };
}

// Bounded well inside a dispatcher lease, so a hung relay cannot outlive the claim on a row.
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

/**
 * Creates the mailer: SMTP through nodemailer when `smtpUrl` is set (timeouts in the URL's query
 * override the defaults), otherwise `.eml` files in `outboxDir`, each written under a temporary
 * name and renamed, so a reader never sees half a message.
 */
export function createMailer(options: MailerOptions): Mailer {
  const toMail = (m: OutgoingMessage) => ({
    from: options.from,
    to: [...m.to],
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    headers: { ...m.headers },
  });

  // nodemailer is loaded at the first e-mail: most CLI commands never send one.
  let transport: Promise<Transporter> | undefined;
  const transportOf = (settings: Parameters<typeof import('nodemailer').createTransport>[0]) => {
    transport ??= import('nodemailer').then((m) => m.createTransport(settings));
    return transport;
  };
  const close = () => {
    void transport?.then((t) => t.close());
  };

  if (options.smtpUrl) {
    const settings = { url: options.smtpUrl, ...SMTP_TIMEOUTS };
    return {
      async send(message) {
        try {
          const info = await (await transportOf(settings)).sendMail(toMail(message));
          const rejected = (info.rejected ?? []).map(String);
          return { ok: true, messageId: info.messageId, ...(rejected.length > 0 ? { rejected } : {}) };
        } catch (error) {
          return { ok: false, ...classifySmtpError(error) };
        }
      },
      close,
    };
  }

  const settings = { streamTransport: true, buffer: true, newline: 'windows' } as const;
  const clock = options.clock ?? (() => new Date());
  return {
    async send(message) {
      const stamp = clock().toISOString().replace(/[-:.]/g, '');
      const id = message.messageId.replace(/^<|@[^@]*$|>$/g, '').replace(/[^A-Za-z0-9._=-]/g, '_');
      const file = path.join(options.outboxDir, `${stamp}-${id}.eml`);
      // A dot-prefixed temporary name is invisible to `*.eml` globs until the atomic rename.
      const temp = path.join(options.outboxDir, `.${stamp}-${id}.${process.pid}.tmp`);
      try {
        const info = await (await transportOf(settings)).sendMail(toMail(message));
        await fs.mkdir(options.outboxDir, { recursive: true });
        const raw = info.message as Buffer;
        // A plain view: @types/node 20's Buffer no longer satisfies TypeScript's own Uint8Array.
        await fs.writeFile(temp, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
        await fs.rename(temp, file);
        return { ok: true, messageId: info.messageId };
      } catch (error) {
        await fs.rm(temp, { force: true }).catch(() => undefined);
        // A full disk or a permission problem may clear up; the message itself is fine.
        return { ok: false, retryable: true, reason: `outbox file: ${(error as Error).message}` };
      }
    },
    close,
  };
}
