import { DIGEST_STRINGS } from './digest.strings.js';
import { STRINGS } from './email.strings.js';
import { highestSeverity, subjectOf } from './notification.group.js';
import type { AlertPayload, DigestMode } from './notification.payload.js';
import type { Lang } from './routes.js';

/** Who an alert is about, as a reader names it: the institution's name, or the region's. */
export function whoOf(p: AlertPayload, lang: Lang): string {
  return p.institution?.name ?? p.region?.name[lang] ?? STRINGS[lang].regional;
}

/**
 * The subject of a digest: the highest severity, the counts and the institutions, e.g.
 * `[严重] 3 条预警 · 泉州农商行 等 2 家机构` or `[Critical] 3 alerts · 泉州农商行 and 1 other institution`.
 * Pure; `alerts` in digest order (the first one names the digest). One line, whatever the names hold.
 */
export function digestSubject(alerts: readonly AlertPayload[], mode: DigestMode, lang: Lang): string {
  const s = DIGEST_STRINGS[lang];
  const active = alerts.filter((a) => a.kind !== 'resolved');
  const resolved = alerts.length - active.length;
  const severity = STRINGS[lang].severity[highestSeverity(active)];
  const head =
    mode === 'reminder'
      ? s.reminder(severity, alerts.length)
      : active.length === 0
        ? s.resolvedOnly(resolved)
        : s.changes(severity, active.length, resolved);
  const first = alerts[0];
  const who = first ? s.who(whoOf(first, lang), new Set(alerts.map(subjectOf)).size) : '';
  return `${head} · ${who}`.replace(/\s+/g, ' ').trim();
}
