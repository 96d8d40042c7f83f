import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LayeredMap } from '../../../src/alerts/layered-map.js';

/** A change to a map: set a key to a value, or delete it. */
const change = fc.oneof(
  fc.record({ key: fc.integer({ min: 0, max: 40 }).map(String), value: fc.integer() }),
  fc.record({ key: fc.integer({ min: 0, max: 40 }).map(String) }),
);

describe('LayeredMap', () => {
  it('reads as a plain map that had the same changes, and every earlier version stays as it was', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }).map(String), fc.integer())),
        fc.array(fc.array(change, { maxLength: 30 }), { maxLength: 12 }),
        (initial, rounds) => {
          let model = new Map(initial);
          let layered = LayeredMap.of(new Map(model));
          const versions: [LayeredMap<number>, Map<string, number>][] = [[layered, new Map(model)]];
          for (const round of rounds) {
            const edit = layered.edit();
            model = new Map(model);
            for (const c of round) {
              if ('value' in c) {
                edit.set(c.key, c.value);
                model.set(c.key, c.value);
              } else {
                edit.delete(c.key);
                model.delete(c.key);
              }
              expect(edit.get(c.key)).toBe(model.get(c.key));
            }
            layered = edit.done();
            versions.push([layered, new Map(model)]);
          }
          for (const [version, expected] of versions) {
            expect(version.size).toBe(expected.size);
            expect(new Map(version)).toEqual(expected);
            expect([...version.keys()].sort()).toEqual([...expected.keys()].sort());
            for (let k = 0; k <= 40; k++) {
              expect(version.has(String(k))).toBe(expected.has(String(k)));
              expect(version.get(String(k))).toBe(expected.get(String(k)));
            }
          }
        },
      ),
    );
  });

  it('stays exact over a thousand versions, its changes folded into new bases as they grow', () => {
    let layered = LayeredMap.of(new Map([['a', 1]]));
    for (let i = 0; i < 1000; i++) {
      const edit = layered.edit();
      edit.set(`k${i}`, i);
      layered = edit.done();
    }
    expect(layered.size).toBe(1001);
    expect(layered.get('k999')).toBe(999);
    expect(layered.get('a')).toBe(1);
  });
});
