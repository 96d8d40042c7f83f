import type { Migration } from 'kysely';
import * as initial from './2026-11-28T0000_initial.js';
import * as ingestReceipts from './2026-11-28T0100_ingest_receipts.js';
import * as observationIntegrity from './2026-11-28T0200_observation_integrity.js';
import * as alertEventRulesHash from './2026-11-28T0300_alert_event_rules_hash.js';
import * as evaluationRuns from './2026-12-01T0000_evaluation_runs.js';
import * as alertExplanations from './2026-12-01T0100_alert_explanations.js';
import * as peerCache from './2026-12-01T0200_peer_cache.js';
import * as alertLifecycle from './2026-12-02T0000_alert_lifecycle.js';
import * as notificationRouting from './2026-12-02T0100_notification_routing.js';

/**
 * Every migration, by name in the order they apply. Listed statically so the same code runs under
 * tsx, vitest and a compiled build; add a new file here when you add one to this folder.
 */
export const migrations: Record<string, Migration> = {
  '2026-11-28T0000_initial': initial,
  '2026-11-28T0100_ingest_receipts': ingestReceipts,
  '2026-11-28T0200_observation_integrity': observationIntegrity,
  '2026-11-28T0300_alert_event_rules_hash': alertEventRulesHash,
  '2026-12-01T0000_evaluation_runs': evaluationRuns,
  '2026-12-01T0100_alert_explanations': alertExplanations,
  '2026-12-01T0200_peer_cache': peerCache,
  '2026-12-02T0000_alert_lifecycle': alertLifecycle,
  '2026-12-02T0100_notification_routing': notificationRouting,
};
