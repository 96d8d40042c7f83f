import { releaseGarbage } from './memory.js';

/** Milliseconds spent in each phase of one upload, in order. */
export class Phases {
  /** Set once an upload is known to be large: its phases then end with a garbage collection. */
  bulk = false;
  private last = performance.now();
  private readonly started = this.last;
  readonly ms: Record<string, number> = {};
  mark(phase: string, collect = false): void {
    if (this.bulk && collect) releaseGarbage();
    const now = performance.now();
    this.ms[`${phase}_ms`] = Math.round((this.ms[`${phase}_ms`] ?? 0) + now - this.last);
    this.last = now;
  }
  total(): Record<string, number> {
    return { ...this.ms, total_ms: Math.round(performance.now() - this.started) };
  }
}
