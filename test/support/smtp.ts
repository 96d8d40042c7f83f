import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message as the server received it. */
export interface ReceivedMail {
  readonly rcpt: string[];
  readonly raw: Buffer;
}

/**
 * A real SMTP server on a free loopback port that keeps every message. Faults on demand: `reject`
 * answers DATA with a code, `refuseNext` answers the next N DATA commands with 451 and then accepts,
 * `unknownUsers` are refused at RCPT TO with 550.
 */
export class TestSmtpServer {
  readonly received: ReceivedMail[] = [];
  reject: { code: number; message: string } | undefined;
  refuseNext = 0;
  /** DATA commands answered with a refusal so far. */
  refused = 0;
  readonly unknownUsers = new Set<string>();
  readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'], // plain text on loopback; no self-signed certificate to trust
    logger: false,
    onRcptTo: (address, _session, callback) => {
      if (!this.unknownUsers.has(address.address)) return callback();
      callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
    },
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (this.refuseNext > 0) {
          this.refuseNext--;
          this.refused++;
          return callback(Object.assign(new Error('4.3.2 Try again later'), { responseCode: 451 }));
        }
        if (this.reject) {
          this.refused++;
          return callback(Object.assign(new Error(this.reject.message), { responseCode: this.reject.code }));
        }
        this.received.push({
          rcpt: session.envelope.rcptTo.map((a) => a.address),
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.received.length = 0;
    this.reject = undefined;
    this.refuseNext = 0;
    this.refused = 0;
    this.unknownUsers.clear();
  }

  /** Every message received, parsed. */
  parsed(): Promise<(ParsedMail & { rcpt: string[] })[]> {
    return Promise.all(
      this.received.map(async (m) => Object.assign(await simpleParser(m.raw), { rcpt: m.rcpt })),
    );
  }

  /** The subjects received so far, sorted. */
  async subjects(): Promise<string[]> {
    return (await this.parsed()).map((m) => m.subject ?? '').sort();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
