import type { RulesSnapshot } from '../alerts/evaluation.service.js';
import { loadInhibitions } from '../alerts/inhibition.file.js';
import { Catalog } from '../catalog/catalog.js';
import type { FileProblem } from '../config/yaml-file.js';
import type { BusinessCalendar } from '../notify/business-days.js';
import { loadRecipients } from '../notify/routes.js';
import { loadRuleSet } from './rule.loader.js';

/** The loaded configuration and where it came from. */
export interface LoadedRules extends RulesSnapshot {
  readonly files: readonly string[];
  readonly loadedAt: Date;
  /** Working days of the notification schedules (reminders, monthly summaries), from `recipients.yaml`. */
  readonly calendar: BusinessCalendar;
}

/** The regulator's zone when none is given, as the `TIME_ZONE` setting defaults. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/**
 * Loads catalog, rule files, routes and inhibit rules from a folder, every problem of every file at once.
 * `timeZone` (the service's `TIME_ZONE`) is where filing deadlines fall; it travels with the rules.
 */
export function loadRulesDir(
  rulesDir: string,
  now: Date,
  options: { readonly timeZone?: string } = {},
): { ok: true; value: LoadedRules } | { ok: false; problems: FileProblem[] } {
  const catalog = Catalog.load(rulesDir);
  if (!catalog.ok) return catalog;
  const ruleSet = loadRuleSet(rulesDir, catalog.value);
  const routes = loadRecipients(rulesDir, catalog.value);
  const inhibitions = loadInhibitions(rulesDir);
  const problems = [
    ...(ruleSet.ok ? [] : ruleSet.problems),
    ...(routes.ok ? [] : routes.problems),
    ...(inhibitions.ok ? [] : inhibitions.problems),
  ];
  if (!ruleSet.ok || !routes.ok || !inhibitions.ok) return { ok: false, problems };
  return {
    ok: true,
    value: {
      catalog: catalog.value,
      rules: ruleSet.value.rules,
      routes: routes.value.routes,
      calendar: routes.value.calendar,
      inhibitions: inhibitions.value,
      timeZone: options.timeZone ?? DEFAULT_TIME_ZONE,
      hash: ruleSet.value.hash,
      files: ruleSet.value.files,
      loadedAt: now,
    },
  };
}

/**
 * Holds the configuration in force. A reload that finds any problem keeps the previous
 * configuration running, as Prometheus does, and reports the problems.
 */
export class RulesRuntime {
  #current: LoadedRules;
  #lastError: { at: Date; problems: FileProblem[] } | undefined;

  constructor(
    private readonly rulesDir: string,
    initial: LoadedRules,
  ) {
    this.#current = initial;
  }

  current(): LoadedRules {
    return this.#current;
  }

  lastError(): { at: Date; problems: FileProblem[] } | undefined {
    return this.#lastError;
  }

  /** Re-reads the folder; on success swaps the configuration in, otherwise keeps the old one. */
  reload(now: Date): { ok: true; hash: string } | { ok: false; problems: FileProblem[] } {
    const loaded = loadRulesDir(this.rulesDir, now, { timeZone: this.#current.timeZone });
    if (!loaded.ok) {
      this.#lastError = { at: now, problems: loaded.problems };
      return loaded;
    }
    this.#current = loaded.value;
    this.#lastError = undefined;
    return { ok: true, hash: loaded.value.hash };
  }
}
