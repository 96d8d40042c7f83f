import { z } from 'zod';

const UNITS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(s|m|h|d)$/;

/**
 * Milliseconds of a Prometheus-style duration (`30s`, `10m`, `2h`, `1d`; one unit, a whole number).
 * @returns undefined for anything else.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
}

/** A duration in a config file, read as milliseconds; `max` bounds it. */
export function durationSchema(max: string) {
  const maxMs = parseDuration(max) ?? Number.POSITIVE_INFINITY;
  return z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 10m, 2h or 1d' });
      return z.NEVER;
    }
    if (ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max}` });
      return z.NEVER;
    }
    return ms;
  });
}
