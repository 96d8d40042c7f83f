import { z } from 'zod';
import { FREQUENCIES } from './period.js';

const code = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case');
const bilingual = z.strictObject({ zh: z.string().min(1), en: z.string().min(1) });

export const UNITS = ['percent', 'times', 'cny_10k', 'count'] as const;

export const institutionTypeSchema = z.strictObject({
  code,
  category: z.enum(['bank', 'quasi_financial']),
  name: bilingual,
});

export const countySchema = z.strictObject({ code: z.string().min(1), en: z.string().min(1) });

export const metricSchema = z.strictObject({
  code,
  name: bilingual,
  unit: z.enum(UNITS),
  frequency: z.enum(FREQUENCIES),
  types: z.array(code).min(1),
  range: z
    .strictObject({ min: z.number().optional(), max: z.number().optional() })
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min must not exceed max')
    .default({}),
  formula: z.string().min(1).optional(),
});

/** Top-level keys starting with `x-` are YAML anchors' homes and are ignored, as in OpenAPI. */
export const catalogFileSchema = z.preprocess(
  (raw) =>
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')))
      : raw,
  z.strictObject({
    institution_types: z.array(institutionTypeSchema).min(1),
    counties: z.array(countySchema).min(1),
    metrics: z.array(metricSchema).min(1),
  }),
);

export type InstitutionTypeDef = z.output<typeof institutionTypeSchema>;
export type CountyDef = z.output<typeof countySchema>;
export type MetricDef = z.output<typeof metricSchema>;
export type CatalogFile = z.output<typeof catalogFileSchema>;
