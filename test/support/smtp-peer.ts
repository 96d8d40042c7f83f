import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a free loopback port that keeps every message it accepts, parsed. */
export class SmtpPeer {
  readonly received: { rcpt: string[]; mail: ParsedMail }[] = [];
  readonly #pending: Promise<void>[] = [];
  readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'], // plain text on loopback; no self-signed certificate to trust
    logger: false,
    onData: (stream, session, callback) => {
      const rcpt = session.envelope.rcptTo.map((a) => a.address);
      const parsed = simpleParser(stream).then((mail) => {
        this.received.push({ rcpt, mail });
        callback();
      }, callback);
      this.#pending.push(parsed);
    },
  });

  /** Listens; resolves with the `smtp://` URL to give the service. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  /** The subjects received so far, sorted, once every message under way is parsed. */
  async subjects(): Promise<string[]> {
    await Promise.all(this.#pending);
    return this.received.map((m) => m.mail.subject ?? '').sort();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
