import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Database } from '../db/schema.js';
import { AppError, type ProblemDetail } from '../http/app-error.js';
import { isValidCreditCode } from './credit-code.js';
import { attributeProblems } from './institution.attributes.js';
import { upsertInstitutions } from './institution.repository.js';
import { type InstitutionInput, institutionInputSchema } from './institution.schema.js';

/**
 * Validates institutions against the schema and the catalog (type, county, attributes, credit code), reporting
 * every problem with its `row`: the item's position counted from `firstRow` (1 for a JSON array, 2 for a
 * CSV file whose header is row 1).
 */
export function validateInstitutions(
  catalog: Catalog,
  raw: readonly unknown[],
  firstRow = 1,
): { valid: InstitutionInput[]; errors: ProblemDetail[] } {
  const errors: ProblemDetail[] = [];
  const valid: InstitutionInput[] = [];
  const seen = new Set<string>();
  raw.forEach((item, index) => {
    const row = index + firstRow;
    const parsed = institutionInputSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        errors.push({ code: 'invalid_field', row, field: issue.path.join('.'), message: issue.message });
      }
      return;
    }
    const i = parsed.data;
    const before = errors.length;
    if (!catalog.types.has(i.type)) {
      errors.push({
        code: 'unknown_institution_type',
        row,
        field: 'type',
        value: i.type,
        message: `Unknown institution type ${i.type}; known: ${[...catalog.types.keys()].join(', ')}`,
      });
    }
    if (!catalog.counties.has(i.county)) {
      errors.push({
        code: 'unknown_county',
        row,
        field: 'county',
        value: i.county,
        message: `Unknown county ${i.county}; known: ${[...catalog.counties.keys()].join(', ')}`,
      });
    }
    errors.push(...attributeProblems(catalog, i.type, i.attributes, row));
    if (i.credit_code !== undefined && !isValidCreditCode(i.credit_code)) {
      errors.push({
        code: 'invalid_credit_code',
        row,
        field: 'credit_code',
        value: i.credit_code,
        message: 'Not a valid unified social credit code (18 characters with a GB 32100 check character)',
      });
    }
    if (seen.has(i.code)) {
      errors.push({
        code: 'duplicate_institution',
        row,
        field: 'code',
        value: i.code,
        message: `Institution ${i.code} appears more than once`,
      });
    }
    seen.add(i.code);
    if (errors.length === before) valid.push(i);
  });
  return { valid, errors };
}

/**
 * Creates or updates institutions atomically, audited as one write.
 * @throws AppError 422 listing every invalid item; nothing is written then.
 */
export async function saveInstitutions(
  db: Kysely<Database>,
  catalog: Catalog,
  raw: readonly unknown[],
  actor: string,
  firstRow = 1,
): Promise<{ created: number; updated: number; codes: string[] }> {
  const { valid, errors } = validateInstitutions(catalog, raw, firstRow);
  if (errors.length > 0)
    throw AppError.unprocessable('invalid_institution', 'The institution data is invalid', errors);
  return db.transaction().execute(async (trx) => {
    const created = await upsertInstitutions(trx, valid);
    const codes = valid.map((i) => i.code);
    await recordAudit(trx, {
      actor,
      action: 'institutions.save',
      target: codes.length === 1 ? codes[0] : null,
      details: { codes, created },
    });
    return { created, updated: valid.length - created, codes };
  });
}
