import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type FileResult, loadYamlFile } from '../config/yaml-file.js';
import { ALERT_LABELS } from './alert.labels.js';
import { type InhibitRule, parseMatcher } from './inhibition.js';

/** The inhibit rules' file in the rules folder. Optional: without it nothing is inhibited. */
export const INHIBITIONS_FILE = 'inhibitions.yaml';

const matcher = z.string().transform((text, ctx) => {
  const parsed = parseMatcher(text);
  if (parsed.ok) return parsed.value;
  ctx.addIssue({ code: 'custom', message: parsed.message });
  return z.NEVER;
});

const ruleSchema = z.strictObject({
  // Names appear in the API's inhibited_by explanations and in logs, so keep them plain.
  name: z
    .string()
    .max(64)
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - or _'),
  source_matchers: z.array(matcher).min(1, 'give at least one matcher'),
  target_matchers: z.array(matcher).min(1, 'give at least one matcher'),
  equal: z.array(z.enum(ALERT_LABELS)).default([]),
});

/** The schema of `inhibitions.yaml`; top-level `x-` keys hold YAML anchors, as in the other files. */
export const inhibitionsFileSchema = z.preprocess(
  (raw) =>
    raw && typeof raw === 'object' && !Array.isArray(raw)
      ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-')))
      : raw,
  z.strictObject({ inhibit_rules: z.array(ruleSchema).default([]) }).superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.inhibit_rules.forEach((rule, i) => {
      if (seen.has(rule.name))
        ctx.addIssue({
          code: 'custom',
          path: ['inhibit_rules', i, 'name'],
          message: `duplicate name ${rule.name}`,
        });
      seen.add(rule.name);
    });
  }),
);

/**
 * Loads and validates `inhibitions.yaml` from a rules folder, every problem at once with its line.
 * Never throws for bad content; a folder without the file has no inhibit rules.
 */
export function loadInhibitions(rulesDir: string): FileResult<InhibitRule[]> {
  const file = path.join(rulesDir, INHIBITIONS_FILE);
  if (!fs.existsSync(file)) return { ok: true, value: [] };
  const parsed = loadYamlFile(file, inhibitionsFileSchema);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    value: parsed.value.inhibit_rules.map((r) => ({
      name: r.name,
      sourceMatchers: r.source_matchers,
      targetMatchers: r.target_matchers,
      equal: r.equal,
    })),
  };
}
