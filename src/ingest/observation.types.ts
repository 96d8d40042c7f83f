/** One cell of an upload: its raw text and where it stands, for error reports. */
export interface Cell {
  readonly text: string;
  /** 1-based row in the file (the header is row 1) or item index in a JSON body. */
  readonly row: number;
  /** 1-based column in the file; absent for JSON. */
  readonly column?: number;
  /** The column header, or the JSON path. */
  readonly field: string;
}

/** One observation as read from an upload, before validation: every part still text. */
export interface RawObservation {
  readonly institution: Cell;
  readonly period: Cell;
  readonly metric: Cell;
  readonly value: Cell;
}

/** Where a value stands in the upload, for problems found after reading (a cross-field check). */
export interface ValueLocation {
  readonly row: number;
  readonly column?: number;
  readonly field: string;
}

/** Finds where a draft's value came from; drafts keep only a number per value to stay small. */
export type Locator = (draft: SubmissionDraft, metric: string) => ValueLocation | undefined;

/**
 * One validated (institution, period) group of an upload, which becomes one submission version. Values
 * are parallel arrays rather than an object keyed by metric: see the collector for why.
 */
export interface SubmissionDraft {
  readonly institution: string;
  /** The institution's type, which decides the metrics it reports and derives. */
  readonly type: string;
  readonly period: string;
  /** Reported metric codes, and their values and encoded locations at the same index. */
  readonly metrics: readonly string[];
  readonly numbers: readonly number[];
  readonly locations: readonly number[];
}

/** A draft's reported values by metric code (a new object: read it once per draft). */
export function draftValues(draft: SubmissionDraft): Record<string, number> {
  const values: Record<string, number> = {};
  draft.metrics.forEach((m, i) => {
    values[m] = draft.numbers[i] as number;
  });
  return values;
}
