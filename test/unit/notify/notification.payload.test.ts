import { describe, expect, it } from 'vitest';
import { notificationPayloadSchema } from '../../../src/notify/notification.payload.js';
import { makePayload, makeReceiptPayload } from './notify.fixtures.js';

describe('notificationPayloadSchema', () => {
  it('reads back an alert row queued before receipts existed, unchanged', () => {
    const queued = JSON.parse(JSON.stringify(makePayload()));
    expect(notificationPayloadSchema.parse(queued)).toEqual(queued);
  });

  it('reads back a receipt', () => {
    const queued = JSON.parse(JSON.stringify(makeReceiptPayload()));
    expect(notificationPayloadSchema.parse(queued)).toEqual(queued);
  });

  it('refuses an unknown kind, and a receipt listing more than 20 versions', () => {
    expect(notificationPayloadSchema.safeParse({ ...makePayload(), kind: 'digest' }).success).toBe(false);
    const version = { institution: 'QZ001', period: '2026-10', version: 1, late: false };
    expect(
      notificationPayloadSchema.safeParse(makeReceiptPayload({ submissions: Array(21).fill(version) }))
        .success,
    ).toBe(false);
  });
});
