import { z } from 'zod';

/** Request body for creating or importing one institution. Catalog checks happen in the service. */
export const institutionInputSchema = z.strictObject({
  code: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
      'letters, digits, _ . - (at most 64), starting with a letter or digit',
    ),
  name: z.string().trim().min(1).max(200),
  type: z.string().trim().min(1),
  county: z.string().trim().min(1),
  credit_code: z.string().trim().toUpperCase().optional(),
  /** No data is expected, or accepted, for periods that ended before this date. */
  established_on: z.iso.date().optional(),
  /** Checked against the catalog's `institution_attributes` by the service (declared, for the type, boolean). */
  attributes: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .meta({
      description:
        'Attributes rules select by, e.g. {"government_backed": true}: each declared in the catalog (GET /catalog, institution_attributes) for the institution type, true or false',
    }),
});
export type InstitutionInput = z.output<typeof institutionInputSchema>;

/** An institution as the API shows it. */
export interface Institution {
  readonly code: string;
  readonly name: string;
  readonly type: string;
  readonly county: string;
  readonly credit_code: string | null;
  readonly established_on: string | null;
  readonly attributes: Record<string, unknown>;
  readonly created_at: string;
}
