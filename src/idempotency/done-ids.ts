// The memory store's done ids: a ring of ids in completion order with their expiries, indexed by an open-addressing table of typed arrays.

/** A 32-bit hash of a string; {@link DoneIds} compares the ids themselves, so any function is correct. */
export type IdHash = (id: string) => number;

/**
 * FNV-1a over the UTF-16 code units of `id`, from a random start per store, so a list of ids
 * that collide cannot be prepared for every store ahead of time (a collision costs a longer
 * probe, never a wrong answer).
 */
export function seededIdHash(): IdHash {
  const seed = (Math.random() * 0x1_0000_0000) | 0;
  return (id) => {
    let hash = seed ^ 0x811c9dc5;
    for (let at = 0; at < id.length; at++) hash = Math.imul(hash ^ id.charCodeAt(at), 0x01000193);
    return hash;
  };
}

/** Ring capacity of a new set; it doubles as ids are added. */
const INITIAL_CAPACITY = 16;

/**
 * Done ids in the order they were added, each with the time it expires: the set behind
 * `memoryIdempotencyStore`.
 *
 * Why not a `Map<string, number>`: a full store does three hash lookups per delivery (the
 * claim's miss, the delete of the oldest id, the insert), and each walks a bucket chain whose
 * every step loads another id string from the old generation. Measured with the CPU cache
 * disturbed between deliveries, as a server does, that was 1.2 to 1.7 us per delivery for 10 000
 * ids, against 0.7 to 0.9 us here. A lookup of an id that is not held reads only the table (one
 * `Int32Array` holding each entry's hash beside its ring position), the oldest id is found from
 * the ring without hashing, and the insert reuses the claim's hash. Expiries sit in a
 * `Float64Array`: no boxed number per entry.
 *
 * Layout: entries live in a circular ring (`ids`, `hashes`, `expiries`) from `head`, `length`
 * positions long; an entry removed from the middle (an expired id) leaves a hole (`undefined`
 * id) that the ring skips. The table (linear probing, load at most one half) maps a hash to a
 * ring position; removal shifts the following run back, so no tombstones build up. When the
 * ring is full it doubles, or, when holes are at least half of it, is packed in place; either
 * way the table is rebuilt: O(n), amortized O(1) per add.
 */
export class DoneIds {
  private ids: Array<string | undefined> = Array.from({ length: INITIAL_CAPACITY }, () => undefined);
  private hashes = new Int32Array(INITIAL_CAPACITY);
  private expiries = new Float64Array(INITIAL_CAPACITY);
  private head = 0;
  private length = 0;
  // Ids held: positions of the ring that are not holes.
  private held = 0;
  // Two int32 per slot: the hash, then the ring position + 1 (0: empty slot).
  private table = new Int32Array(4 * INITIAL_CAPACITY);
  private mask = 2 * INITIAL_CAPACITY - 1;

  // The last id hashed and its hash: the store looks an id up when it is claimed and adds the
  // same string when it is done, so the second hash is skipped.
  private lastId: string | undefined = undefined;
  private lastHash = 0;

  constructor(private readonly hash: IdHash = seededIdHash()) {}

  /** How many ids are held. */
  get size(): number {
    return this.held;
  }

  private hashOf(id: string): number {
    if (id !== this.lastId) {
      this.lastId = id;
      this.lastHash = this.hash(id) | 0;
    }
    return this.lastHash;
  }

  /** The expiry of `id`, or `undefined` when it is not held. */
  expiryOf(id: string): number | undefined {
    const slot = this.find(this.hashOf(id), id);
    return slot < 0 ? undefined : this.expiries[this.table[2 * slot + 1]! - 1]!;
  }

  /** Removes `id` if held. */
  delete(id: string): void {
    const slot = this.find(this.hashOf(id), id);
    if (slot < 0) return;
    this.removeAt(slot);
    this.skipHoles();
  }

  /** Adds `id` as the newest entry (an id already held is moved there). */
  add(id: string, expiresAt: number): void {
    const hash = this.hashOf(id);
    let slot = this.find(hash, id);
    if (slot >= 0) {
      this.removeAt(slot);
      this.skipHoles();
      slot = this.find(hash, id);
    }
    if (this.length === this.ids.length) {
      this.resize();
      slot = this.find(hash, id);
    }
    const position = (this.head + this.length) & (this.ids.length - 1);
    this.ids[position] = id;
    this.hashes[position] = hash;
    this.expiries[position] = expiresAt;
    this.length++;
    this.held++;
    const empty = -1 - slot;
    this.table[2 * empty] = hash;
    this.table[2 * empty + 1] = position + 1;
  }

  /** Removes the oldest id; false when there is none. */
  deleteOldest(): boolean {
    // Every public method leaves `head` at an id (or the ring empty), so no hole to skip first.
    if (this.length === 0) return false;
    this.removeAt(this.slotOfPosition(this.head));
    this.skipHoles();
    return true;
  }

  /**
   * Removes every id expired at `time` and returns the earliest expiry of those left
   * (`Infinity` when none). Walks every entry.
   */
  deleteExpired(time: number): number {
    let earliest = Number.POSITIVE_INFINITY;
    const ring = this.ids.length - 1;
    for (let step = 0; step < this.length; step++) {
      const position = (this.head + step) & ring;
      if (this.ids[position] === undefined) continue;
      const expiresAt = this.expiries[position]!;
      if (expiresAt <= time) this.removeAt(this.slotOfPosition(position));
      else if (expiresAt < earliest) earliest = expiresAt;
    }
    this.skipHoles();
    return earliest;
  }

  /** The table slot holding `id` (hash `hash`), or `-1 - slot` for the empty slot where it would go. */
  private find(hash: number, id: string): number {
    const table = this.table;
    const mask = this.mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = table[2 * slot + 1]!;
      if (entry === 0) return -1 - slot;
      if (table[2 * slot] === hash && this.ids[entry - 1] === id) return slot;
    }
  }

  /** The table slot of the entry at ring `position` (which must hold an id). */
  private slotOfPosition(position: number): number {
    const table = this.table;
    const mask = this.mask;
    let slot = this.hashes[position]! & mask;
    while (table[2 * slot + 1] !== position + 1) slot = (slot + 1) & mask;
    return slot;
  }

  /**
   * Removes the entry in table `slot`: a hole in the ring (callers move `head` past holes when
   * they are done), and the table run shifted back over it.
   */
  private removeAt(slot: number): void {
    const table = this.table;
    const mask = this.mask;
    const position = table[2 * slot + 1]! - 1;
    this.ids[position] = undefined;
    this.held--;
    // Backward-shift deletion: move each later entry of the run whose home slot is not
    // between the gap and itself (cyclically) into the gap, until an empty slot.
    let gap = slot;
    for (let next = (gap + 1) & mask; table[2 * next + 1] !== 0; next = (next + 1) & mask) {
      const home = table[2 * next]! & mask;
      if (((next - home) & mask) >= ((next - gap) & mask)) {
        table[2 * gap] = table[2 * next]!;
        table[2 * gap + 1] = table[2 * next + 1]!;
        gap = next;
      }
    }
    table[2 * gap] = 0;
    table[2 * gap + 1] = 0;
  }

  /** Moves `head` past holes at the front of the ring. */
  private skipHoles(): void {
    const ring = this.ids.length - 1;
    while (this.length > 0 && this.ids[this.head] === undefined) {
      this.head = (this.head + 1) & ring;
      this.length--;
    }
    if (this.length === 0) this.head = 0;
  }

  /** The ring is full: packs it when holes are at least half of it, else doubles it; rebuilds the table. */
  private resize(): void {
    const capacity = this.held * 2 <= this.ids.length ? this.ids.length : this.ids.length * 2;
    const ids: Array<string | undefined> = Array.from({ length: capacity }, () => undefined);
    const hashes = new Int32Array(capacity);
    const expiries = new Float64Array(capacity);
    const ring = this.ids.length - 1;
    let kept = 0;
    for (let step = 0; step < this.length; step++) {
      const position = (this.head + step) & ring;
      const id = this.ids[position];
      if (id === undefined) continue;
      ids[kept] = id;
      hashes[kept] = this.hashes[position]!;
      expiries[kept] = this.expiries[position]!;
      kept++;
    }
    this.ids = ids;
    this.hashes = hashes;
    this.expiries = expiries;
    this.head = 0;
    this.length = kept;
    this.table = new Int32Array(4 * capacity);
    this.mask = 2 * capacity - 1;
    for (let position = 0; position < kept; position++) {
      const slot = -1 - this.find(hashes[position]!, ids[position]!);
      this.table[2 * slot] = hashes[position]!;
      this.table[2 * slot + 1] = position + 1;
    }
  }
}
