import type { Catalog } from '../catalog/catalog.js';
import { draftValues, type Locator, type SubmissionDraft, type ValueLocation } from './observation.types.js';
import type { ProblemLog } from './problem.log.js';

const at = (where: ValueLocation | undefined) =>
  where ? { row: where.row, ...(where.column ? { column: where.column } : {}), field: where.field } : {};

/** Rounds for messages: enough digits to see the difference, no float noise. */
const show = (n: number) => String(Number(n.toPrecision(10)));

/**
 * Cross-field checks on each (institution, period) of an upload, after every row has been read:
 * a reported ratio must agree with the one computed from its reported components, and the catalog's
 * consistency checks (core tier-1 ≤ tier-1 ≤ CAR, NPL ≤ loans, …) must hold, over reported values and
 * the ratios derived from them. Pure.
 */
export function checkConsistency(
  drafts: readonly SubmissionDraft[],
  catalog: Catalog,
  problems: ProblemLog,
  locate: Locator,
): void {
  const { ratioTolerance, checks } = catalog.validation;
  for (const draft of drafts) {
    const reportedValues = draftValues(draft);
    for (const f of catalog.formulas) {
      const reported = reportedValues[f.metric];
      if (reported === undefined || !f.inputs.every((i) => reportedValues[i] !== undefined)) continue;
      const computed = f.compute(reportedValues);
      if (!Number.isFinite(computed)) continue;
      const tolerance = catalog.metrics.get(f.metric)?.tolerance ?? ratioTolerance;
      if (Math.abs(reported - computed) > tolerance + 1e-9) {
        problems.error({
          code: 'ratio_mismatch',
          ...at(locate(draft, f.metric)),
          value: reported,
          check: f.metric,
          message: `${f.metric} ${show(reported)} for ${draft.institution} ${draft.period} disagrees with ${show(computed)} computed from ${f.inputs.join(', ')} (tolerance ${tolerance})`,
        });
      }
    }
    if (checks.length === 0) continue;
    const values = { ...reportedValues, ...catalog.derive(draft.type, reportedValues) };
    for (const check of checks) {
      if (!check.inputs.every((i) => values[i] !== undefined)) continue;
      if (check.holds(values)) continue;
      const located = check.inputs.find((i) => reportedValues[i] !== undefined);
      problems.add(check.severity, {
        code: 'inconsistent_values',
        ...at(located ? locate(draft, located) : undefined),
        check: check.id,
        value: Object.fromEntries(check.inputs.map((i) => [i, values[i]])),
        message: `${draft.institution} ${draft.period}: ${check.message.en} (${check.expression}) / ${check.message.zh}`,
      });
    }
  }
}

/** Previous-period values by `institution\0metric`, for the jump check. */
export type PreviousValues = ReadonlyMap<string, { readonly period: string; readonly value: number }>;

/**
 * Warns when a value moved from the previous period by more than the metric's jump factor (either
 * way); a change of sign or from zero is not a ratio and is left to the rules. Pure.
 */
export function checkJumps(
  drafts: readonly SubmissionDraft[],
  previous: PreviousValues,
  catalog: Catalog,
  problems: ProblemLog,
  locate: Locator,
): void {
  if (previous.size === 0) return;
  for (const draft of drafts) {
    for (const [metric, value] of Object.entries(draftValues(draft))) {
      const before = previous.get(`${draft.institution}\u0000${metric}`);
      if (!before || before.value === 0 || value === 0 || Math.sign(before.value) !== Math.sign(value))
        continue;
      const factor = catalog.metrics.get(metric)?.jump_factor ?? catalog.validation.jumpFactor;
      const ratio = value / before.value;
      if (ratio > factor || ratio < 1 / factor) {
        problems.warning({
          code: 'jump_from_previous',
          ...at(locate(draft, metric)),
          value,
          message: `${metric} for ${draft.institution} moved from ${show(before.value)} (${before.period}) to ${show(value)} (${draft.period}), more than ${factor}×; please explain or correct`,
        });
      }
    }
  }
}
