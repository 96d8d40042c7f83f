import type { RulesSnapshot } from '../../src/alerts/evaluation.service.js';
import { aggregateRegions, evaluate } from '../../src/rules/evaluate.js';
import { clonedPopulation, evaluationInput } from '../lib/data.js';
import { timeInterleaved } from '../lib/stats.js';
import { END_PERIOD, NOW } from './ingest.js';

export interface EvaluateResult {
  readonly institutions: number;
  readonly months: number;
  readonly observations: number;
  /** rule × institution pairs judged (assessSeries calls) per evaluation. */
  readonly series: number;
  readonly transitions: number;
  /** From no active alert: every breach opens one. */
  readonly coldMs: number[];
  /** With the previous result's alerts as `previous`: the steady state of a periodic re-evaluation. */
  readonly steadyMs: number[];
}

/** The pure evaluator with the shipped rules over `copies` × 20 institutions' `months` of history. */
export async function runEvaluate(
  snapshot: RulesSnapshot,
  copies: number,
  months: number,
  runs: number,
): Promise<EvaluateResult> {
  const input = evaluationInput(snapshot.catalog, clonedPopulation(copies, END_PERIOD, months));
  // Every (institution, period) with data was filed, as a current submission would say.
  const filings = [
    ...new Map(
      input.observations.map((o) => [
        `${o.institution}\u0000${o.period}`,
        { institution: o.institution, period: o.period, submissionId: o.submissionId },
      ]),
    ).values(),
  ];
  const base = {
    rules: snapshot.rules,
    catalog: snapshot.catalog,
    ...input,
    filings,
    timeZone: snapshot.timeZone,
    now: NOW,
    // The whole population is evaluated: no peers beyond it. Region totals are the service's SQL work,
    // computed here once, untimed, as the service would pass them.
    peers: { institutions: [], observations: [] },
    regionTotals: aggregateRegions(snapshot.rules, snapshot.catalog, input.institutions, input.observations),
  };
  const series = snapshot.rules.reduce(
    (n, rule) => n + input.institutions.filter((i) => rule.types.includes(i.type)).length,
    0,
  );
  const first = evaluate({ ...base, previous: [] });
  if (first.health.some((h) => !h.ok)) throw new Error(`a rule failed: ${JSON.stringify(first.health)}`);
  const none = () => undefined;
  const [coldMs, steadyMs] = (await timeInterleaved(runs, [
    { setup: none, body: () => evaluate({ ...base, previous: [] }) },
    {
      setup: none,
      body: () => {
        const r = evaluate({ ...base, previous: first.active });
        if (r.transitions.length > 0) throw new Error('a steady re-evaluation should change nothing');
      },
    },
  ])) as [number[], number[]];
  return {
    institutions: input.institutions.length,
    months,
    observations: input.observations.length,
    series,
    transitions: first.transitions.length,
    coldMs,
    steadyMs,
  };
}
