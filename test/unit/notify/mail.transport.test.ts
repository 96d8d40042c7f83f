import { describe, expect, it } from 'vitest';
import { classifySmtpError, messageIdFor } from '../../../src/notify/mail.transport.js';

describe(messageIdFor.name, () => {
  it('derives a stable, valid Message-ID from the idempotency key', () => {
    expect(messageIdFor('17:banks-critical')).toBe('<17.banks-critical@riskwatch>');
    expect(messageIdFor('17:banks-critical')).toBe(messageIdFor('17:banks-critical'));
  });

  it('encodes anything outside a safe atom one-to-one', () => {
    expect(messageIdFor('1:a.b')).toBe('<1.a=2Eb@riskwatch>');
    expect(messageIdFor('1.a:b')).toBe('<1=2Ea.b@riskwatch>');
    expect(messageIdFor('1:监管 <x>')).toBe('<1.=E7=9B=91=E7=AE=A1=20=3Cx=3E@riskwatch>');
    expect(messageIdFor('a=3A')).not.toBe(messageIdFor('a:'));
  });
});

describe(classifySmtpError.name, () => {
  it.each([
    [
      '550 mailbox unavailable',
      { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' },
      false,
    ],
    ['554 transaction failed', { code: 'EMESSAGE', responseCode: 554, response: '554 Rejected' }, false],
    ['451 local error', { code: 'EMESSAGE', responseCode: 451, response: '451 Try again later' }, true],
    ['421 service closing', { code: 'EENVELOPE', responseCode: 421, response: '421 Too busy' }, true],
    ['503 bad sequence', { code: 'EPROTOCOL', responseCode: 503, response: '503 Bad sequence' }, true],
    [
      '535 bad credentials',
      { code: 'EAUTH', responseCode: 535, response: '535 Auth failed', command: 'AUTH PLAIN' },
      true,
    ],
    ['refused connection', { code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, true],
    ['timeout', { code: 'ETIMEDOUT', message: 'Greeting never received' }, true],
    ['no recipients', { code: 'EENVELOPE', message: 'No recipients defined' }, false],
    ['a plain Error', new Error('boom'), true],
    ['a thrown string', 'boom', true],
  ])('classifies %s', (_, error, retryable) => {
    expect(classifySmtpError(error).retryable).toBe(retryable);
  });

  it('keeps the server response as the reason', () => {
    expect(
      classifySmtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user' }).reason,
    ).toBe('EENVELOPE: 550 5.1.1 No such user');
  });
});
