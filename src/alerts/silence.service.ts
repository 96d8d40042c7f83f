import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/audit.repository.js';
import type { Database } from '../db/schema.js';
import { AppError, type ProblemDetail } from '../http/app-error.js';
import { type Silence, type SilenceInput, silenceState, validateSilence } from './silence.js';
import { expireSilence, findSilence, insertSilence } from './silence.repository.js';

/** The vocabulary a silence's matchers are checked against: the rules and catalog in force. */
export interface SilenceVocabulary {
  readonly ruleIds: ReadonlySet<string>;
  readonly types: ReadonlyMap<string, unknown>;
  readonly counties: ReadonlyMap<string, unknown>;
}

/**
 * Creates a silence and audits it in one transaction. A matcher naming an unknown rule, institution,
 * type or county is refused, since it would silently match nothing.
 * @throws AppError 422 `invalid_silence` listing every problem; nothing is written then.
 */
export async function createSilence(
  db: Kysely<Database>,
  input: SilenceInput,
  vocabulary: SilenceVocabulary,
  now: Date,
): Promise<Silence> {
  return db.transaction().execute(async (trx) => {
    const validated = validateSilence(input, now);
    const problems: ProblemDetail[] = validated.ok ? [] : [...validated.problems];
    const unknown = (field: string, value: string | null | undefined, known: (v: string) => boolean) => {
      if (value?.trim() && !known(value.trim()))
        problems.push({
          code: `unknown_${field}`,
          field: `matchers.${field}`,
          message: `unknown ${field} ${value}`,
        });
    };
    unknown('rule', input.ruleId, (v) => vocabulary.ruleIds.has(v));
    unknown('institution_type', input.institutionType, (v) => vocabulary.types.has(v));
    unknown('county', input.county, (v) => vocabulary.counties.has(v));
    const code = input.institution?.trim();
    if (code) {
      const found = await trx
        .selectFrom('institutions')
        .select('code')
        .where('code', '=', code)
        .executeTakeFirst();
      if (!found)
        problems.push({
          code: 'unknown_institution',
          field: 'matchers.institution',
          message: `unknown institution ${code}`,
        });
    }
    if (!validated.ok || problems.length > 0)
      throw AppError.unprocessable('invalid_silence', 'The silence is invalid', problems);
    const silence = await insertSilence(trx, validated.value, now);
    await recordAudit(trx, {
      actor: silence.createdBy,
      action: 'silences.create',
      target: `silence:${silence.id}`,
      details: {
        matchers: {
          rule: silence.ruleId,
          institution: silence.institution,
          institution_type: silence.institutionType,
          county: silence.county,
          severity: silence.severity,
        },
        starts_at: silence.startsAt.toISOString(),
        ends_at: silence.endsAt.toISOString(),
        reason: silence.reason,
      },
    });
    return silence;
  });
}

/**
 * Expires a silence now (it is kept, with who expired it and when) and audits it.
 * @throws AppError 404 when there is no such silence, 409 `silence_expired` when it is already over.
 */
export async function expireSilenceNow(
  db: Kysely<Database>,
  id: number,
  by: string,
  now: Date,
): Promise<Silence> {
  return db.transaction().execute(async (trx) => {
    const expired = await expireSilence(trx, id, by, now);
    if (!expired) {
      const existing = await findSilence(trx, id);
      if (!existing) throw AppError.notFound(`Silence ${id}`);
      throw AppError.conflict('silence_expired', `Silence ${id} is already ${silenceState(existing, now)}`);
    }
    await recordAudit(trx, { actor: by, action: 'silences.expire', target: `silence:${id}` });
    return expired;
  });
}
