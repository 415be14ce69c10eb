import { FrequencySketch, hashString } from './frequency-sketch.js'
import type { ByteMap, ByteMapOptions } from './types.js'

/** The W-TinyLFU knobs beside the byte budget. */
export interface WTinyLfuOptions {
  /** Share of the budget for the admission window (plain LRU in front of the main area). Default 0.01. */
  readonly windowFraction?: number
  /** Share of the main area for the protected segment (the rest is probation). Default 0.8. */
  readonly protectedFraction?: number
  /** The sketch halves its counters after `sampleFactor ×` (the entries it is sized for) increments. Default 10. */
  readonly sampleFactor?: number
}

const enum Queue {
  Window = 0,
  Probation = 1,
  Protected = 2,
}

class Node<K, V> {
  prev: Node<K, V> = this
  next: Node<K, V> = this
  queue = Queue.Window

  constructor(
    readonly key: K,
    public value: V,
    public bytes: number,
    readonly hash: number,
  ) {}
}

/** A circular list with a sentinel: `head.next` is the least recently used, `head.prev` the most. */
class List<K, V> {
  readonly head: Node<K, V>
  bytes = 0

  constructor() {
    this.head = new Node<K, V>(undefined as K, undefined as V, 0, 0)
  }

  get first(): Node<K, V> | undefined {
    const node = this.head.next
    return node === this.head ? undefined : node
  }

  append(node: Node<K, V>): void {
    const last = this.head.prev
    node.prev = last
    node.next = this.head
    last.next = node
    this.head.prev = node
    this.bytes += node.bytes
  }

  remove(node: Node<K, V>): void {
    node.prev.next = node.next
    node.next.prev = node.prev
    node.prev = node
    node.next = node
    this.bytes -= node.bytes
  }

  /** Moves a node of this list to its most recently used end. */
  touch(node: Node<K, V>): void {
    if (this.head.prev === node) return
    node.prev.next = node.next
    node.next.prev = node.prev
    const last = this.head.prev
    node.prev = last
    node.next = this.head
    last.next = node
    this.head.prev = node
  }

  clear(): void {
    this.head.next = this.head
    this.head.prev = this.head
    this.bytes = 0
  }
}

/**
 * Window TinyLFU (Einziger, Friedman & Manes; the design of Java's Caffeine), bounded by bytes.
 *
 * New entries enter a small LRU window. What the window pushes out becomes a candidate for the
 * main area, a segmented LRU: probation (entries seen once there) and protected (entries hit
 * again while on probation). When the main area is over budget the candidate's estimated
 * frequency is compared with probation's least recently used entry (the victim), and the less
 * frequent of the two leaves, the candidate on a tie: a burst of one-off keys (a scan of the
 * whole library) passes through the window without pushing out what is read every day.
 *
 * Left out of Caffeine's design: the hill climber that resizes the window (the fraction is
 * fixed), the random admission that defends against hash flooding (keys here are our own
 * hashes, not an attacker's), and the buffering of reads (one thread).
 *
 * `get` moves the entry and counts the access without allocating; `peek` does neither.
 */
export class WTinyLfu<K, V> implements ByteMap<K, V> {
  readonly maxSize: number
  private readonly map = new Map<K, Node<K, V>>()
  private readonly window = new List<K, V>()
  private readonly probation = new List<K, V>()
  private readonly protected = new List<K, V>()
  private readonly windowMax: number
  private readonly protectedMax: number
  private readonly sketch: FrequencySketch
  private readonly sizeOf: (value: V, key: K) => number
  private readonly onRemove: ((value: V, key: K, reason: 'evict' | 'set' | 'delete') => void) | undefined
  private readonly hashOf: (key: K) => number

  constructor(options: ByteMapOptions<K, V> & WTinyLfuOptions) {
    const { maxBytes } = options
    const windowFraction = options.windowFraction ?? 0.01
    const protectedFraction = options.protectedFraction ?? 0.8
    if (!(windowFraction > 0 && windowFraction < 1))
      throw new Error(`windowFraction ${windowFraction} is not in (0, 1)`)
    if (!(protectedFraction >= 0 && protectedFraction < 1))
      throw new Error(`protectedFraction ${protectedFraction} is not in [0, 1)`)
    this.maxSize = maxBytes
    this.windowMax = Math.max(1, Math.floor(maxBytes * windowFraction))
    this.protectedMax = Math.floor((maxBytes - this.windowMax) * protectedFraction)
    this.sketch = new FrequencySketch(16, options.sampleFactor)
    this.sizeOf = options.sizeOf
    this.onRemove = options.onRemove
    this.hashOf = (options.hashOf ?? defaultHash) as (key: K) => number
  }

  get size(): number {
    return this.map.size
  }

  get calculatedSize(): number {
    return this.window.bytes + this.probation.bytes + this.protected.bytes
  }

  /** Bytes per segment, for tests and the bench. */
  segments(): { window: number; probation: number; protected: number } {
    return { window: this.window.bytes, probation: this.probation.bytes, protected: this.protected.bytes }
  }

  /** The sketch's estimate for a key (0 to 15). */
  frequency(key: K): number {
    return this.sketch.frequency(this.hashOf(key))
  }

  /** Where a key is held: `window`, `probation`, `protected`, or undefined. */
  segmentOf(key: K): 'window' | 'probation' | 'protected' | undefined {
    const node = this.map.get(key)
    if (node === undefined) return undefined
    return node.queue === Queue.Window ? 'window' : node.queue === Queue.Probation ? 'probation' : 'protected'
  }

  has(key: K): boolean {
    return this.map.has(key)
  }

  peek(key: K): V | undefined {
    return this.map.get(key)?.value
  }

  get(key: K): V | undefined {
    const node = this.map.get(key)
    if (node === undefined) return undefined
    this.sketch.increment(node.hash)
    this.onAccess(node)
    return node.value
  }

  set(key: K, value: V): this {
    const bytes = this.sizeOf(value, key)
    const old = this.map.get(key)
    if (old !== undefined) {
      const oldValue = old.value
      this.listOf(old.queue).remove(old)
      old.value = value
      old.bytes = bytes
      this.listOf(old.queue).append(old)
      this.sketch.increment(old.hash)
      if (oldValue !== value) this.onRemove?.(oldValue, key, 'set')
      if (bytes > this.maxSize) this.deleteNode(old, 'evict')
    } else {
      if (bytes > this.maxSize) return this
      const node = new Node(key, value, bytes, this.hashOf(key))
      this.map.set(key, node)
      this.window.append(node)
      this.sketch.ensureCapacity(this.map.size, this.heldHashes)
      this.sketch.increment(node.hash)
    }
    this.evict()
    return this
  }

  delete(key: K): boolean {
    const node = this.map.get(key)
    if (node === undefined) return false
    this.deleteNode(node, 'delete')
    return true
  }

  clear(): void {
    const nodes = [...this.map.values()]
    this.map.clear()
    this.window.clear()
    this.probation.clear()
    this.protected.clear()
    for (const node of nodes) this.onRemove?.(node.value, node.key, 'delete')
  }

  private readonly heldHashes = (): Iterable<number> => [...this.map.values()].map((node) => node.hash)

  private listOf(queue: Queue): List<K, V> {
    return queue === Queue.Window ? this.window : queue === Queue.Probation ? this.probation : this.protected
  }

  private onAccess(node: Node<K, V>): void {
    if (node.queue === Queue.Window) {
      this.window.touch(node)
    } else if (node.queue === Queue.Protected) {
      this.protected.touch(node)
    } else {
      this.probation.remove(node)
      node.queue = Queue.Protected
      this.protected.append(node)
      this.demoteProtected()
    }
  }

  /** Protected over its share: its least recently used entries go back to probation. */
  private demoteProtected(): void {
    while (this.protected.bytes > this.protectedMax) {
      const node = this.protected.first!
      this.protected.remove(node)
      node.queue = Queue.Probation
      this.probation.append(node)
    }
  }

  private deleteNode(node: Node<K, V>, reason: 'evict' | 'delete'): void {
    this.listOf(node.queue).remove(node)
    this.map.delete(node.key)
    this.onRemove?.(node.value, node.key, reason)
  }

  private evict(): void {
    // The window's overflow moves to probation's most recently used end: the candidates.
    let candidate: Node<K, V> | undefined
    while (this.window.bytes > this.windowMax) {
      const node = this.window.first!
      this.window.remove(node)
      node.queue = Queue.Probation
      this.probation.append(node)
      candidate ??= node
    }
    this.demoteProtected()
    while (this.calculatedSize > this.maxSize) {
      const victim = this.victim(candidate)
      if (victim === undefined || candidate === undefined) {
        // Only candidates left (or nothing to compare with): the oldest one leaves.
        const oldest = candidate ?? victim ?? this.window.first!
        candidate = this.nextCandidate(oldest)
        this.deleteNode(oldest, 'evict')
        continue
      }
      if (this.sketch.frequency(candidate.hash) > this.sketch.frequency(victim.hash)) {
        this.deleteNode(victim, 'evict')
      } else {
        const rejected = candidate
        candidate = this.nextCandidate(rejected)
        this.deleteNode(rejected, 'evict')
      }
    }
  }

  /** Probation's least recently used entry that is not a candidate, else protected's. */
  private victim(candidate: Node<K, V> | undefined): Node<K, V> | undefined {
    const first = this.probation.first
    if (first !== undefined && first !== candidate) return first
    return this.protected.first
  }

  private nextCandidate(node: Node<K, V>): Node<K, V> | undefined {
    if (node.queue !== Queue.Probation) return undefined
    const next = node.next
    return next === this.probation.head ? undefined : next
  }
}

function defaultHash(key: unknown): number {
  return hashString(typeof key === 'string' ? key : String(key))
}
