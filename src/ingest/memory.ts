import v8 from 'node:v8';
import vm from 'node:vm';

let collect: (() => void) | undefined;

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
}

/** What the heap holds, with the memory outside it that its objects keep (buffers). */
function heldBytes(): number {
  const { used_heap_size, external_memory } = v8.getHeapStatistics();
  return used_heap_size + external_memory;
}

/**
 * A check to make at every turn of a loop whose heap grows (reading a file): it collects as
 * {@link releaseGarbage} does once the heap has grown by `bytes` since the check was made, or since its
 * last collection. Cheap when it does not collect, so a loop too short to grow the heap that much never
 * pays for one.
 */
export function collectorOfGrowth(bytes: number): () => void {
  let base = heldBytes();
  return () => {
    if (heldBytes() - base <= bytes) return;
    releaseGarbage();
    base = heldBytes();
  };
}
