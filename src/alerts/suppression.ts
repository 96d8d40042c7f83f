import type { LabelledAlert } from './alert.labels.js';
import { type InhibitRule, inhibitorsOf } from './inhibition.js';
import { type Silence, silencesOf } from './silence.js';

/** What suppression is judged against: silences, inhibit rules, the alerts active, and the time. */
export interface SuppressionContext {
  readonly silences: readonly Silence[];
  readonly inhibitions: readonly InhibitRule[];
  /** The alerts active at `at` (the target may be among them); only firing ones inhibit. */
  readonly activeAlerts: readonly LabelledAlert[];
  readonly at: Date;
}

/** Why an alert's notification is held back: the ids of the silences and of the inhibiting alerts. */
export interface Suppression {
  readonly silencedBy?: number[];
  readonly inhibitedBy?: number[];
}

/**
 * Whether an alert's notification is held back at `at`, and by what: the active silences matching its
 * labels and the firing alerts inhibiting it. Empty (`{}`) when it is notified. The one question the
 * notifier asks, for a transition as for an alert shown in the API.
 */
export function suppressionOf(alert: LabelledAlert, context: SuppressionContext): Suppression {
  const silencedBy = silencesOf(alert.labels, context.silences, context.at);
  const inhibitedBy = inhibitorsOf(alert, context.inhibitions, context.activeAlerts);
  return {
    ...(silencedBy.length > 0 ? { silencedBy } : {}),
    ...(inhibitedBy.length > 0 ? { inhibitedBy } : {}),
  };
}

/** Whether a suppression holds anything back. */
export function isSuppressed(s: Suppression): boolean {
  return (s.silencedBy?.length ?? 0) > 0 || (s.inhibitedBy?.length ?? 0) > 0;
}
