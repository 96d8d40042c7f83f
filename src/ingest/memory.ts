import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | undefined;
/** What the heap (and the buffers outside it) held after the last collection made here. */
let heldAfterLast = 0;

function heldBytes(): number {
  const { used_heap_size, external_memory } = v8.getHeapStatistics();
  return used_heap_size + external_memory;
}

/**
 * Runs a full garbage collection between the phases of a bulk import. V8 sizes its heap to the
 * allocation rate, not to what is live: left alone, a 600,000-row import (about 90 MB live) lets
 * 300 MB of spent batches pile up before collecting. Collecting at phase boundaries keeps the peak
 * near what is live, at ~50 ms a call. `--expose-gc` is set for this process on first use; the `gc`
 * function it defines is taken from a fresh context so no global is added.
 */
export function releaseGarbage(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  heldAfterLast = heldBytes();
}

/**
 * Collects as {@link releaseGarbage} does, but only once the heap (with the buffers outside it) has grown
 * by `bytes` since the last collection made here: cheap enough to ask at every turn of a loop whose heap
 * grows (reading a file), and free for an upload too small to ever grow that much.
 */
export function releaseGarbageBeyond(bytes: number): void {
  if (heldBytes() - heldAfterLast > bytes) releaseGarbage();
}
