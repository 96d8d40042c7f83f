/**
 * A read-only map seen through the changes made to it since it was built: a new version costs the size
 * of its changes, not of the map. The peer cache keeps 30,000 submission ids and 9,000 peers per set and
 * refreshes them with a handful of changes at a time, while evaluations still read the version before.
 * Iteration yields the base's entries (those not changed) in their order, then the changed ones.
 */
export class LayeredMap<V> implements ReadonlyMap<string, V> {
  readonly size: number;

  private constructor(
    private readonly base: ReadonlyMap<string, V>,
    /** Changed keys: a value, or `undefined` for a key deleted. */
    private readonly patch: ReadonlyMap<string, V | undefined>,
  ) {
    let size = base.size;
    for (const [key, value] of patch) {
      const before = base.has(key);
      if (value === undefined && before) size--;
      else if (value !== undefined && !before) size++;
    }
    this.size = size;
  }

  /** A layered view of `map`, which must not change afterwards. */
  static of<V>(map: ReadonlyMap<string, V>): LayeredMap<V> {
    return new LayeredMap(map, new Map());
  }

  /** `base` seen through `patch` (both left unchanged afterwards). */
  static over<V>(base: ReadonlyMap<string, V>, patch: ReadonlyMap<string, V | undefined>): LayeredMap<V> {
    return new LayeredMap(base, patch);
  }

  get(key: string): V | undefined {
    return this.patch.has(key) ? this.patch.get(key) : this.base.get(key);
  }

  has(key: string): boolean {
    return this.patch.has(key) ? this.patch.get(key) !== undefined : this.base.has(key);
  }

  *entries(): MapIterator<[string, V]> {
    for (const entry of this.base) if (!this.patch.has(entry[0])) yield entry;
    for (const [key, value] of this.patch) if (value !== undefined) yield [key, value];
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  /** Changes to make to a copy of this map; {@link MapEdit.done} makes the new version. */
  edit(): MapEdit<V> {
    return new MapEdit(this.base, new Map(this.patch));
  }
}

/** Changes being made to a {@link LayeredMap}: reads see them. */
export class MapEdit<V> {
  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly patch: Map<string, V | undefined>,
  ) {}

  get(key: string): V | undefined {
    return this.patch.has(key) ? this.patch.get(key) : this.base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): void {
    this.patch.set(key, value);
  }

  delete(key: string): void {
    if (this.has(key)) this.patch.set(key, undefined);
  }

  /**
   * The new version. Once the changes outgrow a quarter of the base, they are folded into a new base
   * (a copy), so that reads never go through a long history.
   */
  done(): LayeredMap<V> {
    if (this.patch.size <= Math.max(256, this.base.size / 4)) return LayeredMap.over(this.base, this.patch);
    const folded = new Map<string, V>();
    for (const [key, value] of this.base) if (!this.patch.has(key)) folded.set(key, value);
    for (const [key, value] of this.patch) if (value !== undefined) folded.set(key, value);
    return LayeredMap.of(folded);
  }
}
