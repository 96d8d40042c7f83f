import { z } from 'zod';
import type { ProblemDetail } from '../http/app-error.js';
import type { RawObservation } from './observation.types.js';

/** One JSON submission: an institution, a period and its values by metric code or name. */
export const jsonSubmissionSchema = z.strictObject({
  institution: z.string(),
  period: z.string(),
  values: z.record(z.string(), z.union([z.number(), z.string()])),
});

/** A JSON upload: one `{institution, period, values}` object, or an array of them. */
export const jsonUploadSchema = z.union([
  jsonSubmissionSchema,
  z.array(jsonSubmissionSchema).min(1).max(10_000),
]);

/**
 * Turns a JSON upload into raw observations located by item (`row`, 1-based) and path, so that
 * the same validator serves CSV and JSON.
 */
export function parseJsonUpload(body: unknown): { observations: RawObservation[]; errors: ProblemDetail[] } {
  const parsed = jsonUploadSchema.safeParse(body);
  if (!parsed.success) {
    return {
      observations: [],
      errors: parsed.error.issues.map((i) => ({
        code: 'invalid_body',
        path: i.path.join('.'),
        message: i.message,
      })),
    };
  }
  const items = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  const observations = items.flatMap((item, index) => {
    const row = index + 1;
    const prefix = Array.isArray(parsed.data) ? `[${index}].` : '';
    return Object.entries(item.values).map(([metric, value]) => ({
      institution: { text: item.institution, row, field: `${prefix}institution` },
      period: { text: item.period, row, field: `${prefix}period` },
      metric: { text: metric, row, field: `${prefix}values.${metric}` },
      value: { text: String(value), row, field: `${prefix}values.${metric}` },
    }));
  });
  return { observations, errors: [] };
}
