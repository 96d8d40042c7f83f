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

/** One validated (institution, period) group of an upload, which becomes one submission version. */
export interface SubmissionDraft {
  readonly institution: string;
  readonly period: string;
  /** Reported values by metric code. */
  readonly values: Readonly<Record<string, number>>;
}
