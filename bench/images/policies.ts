// Replays a trace against a byte budget: LRU and W-TinyLFU through the service's own byte maps,
// and Belady's clairvoyant policy computed offline on the same trace.
import { createByteMap, type EvictionPolicy } from '../../src/cache/eviction/index.js'
import type { Trace } from './traces.js'

export interface Replay {
  /** Hits / requests over the whole trace. */
  readonly hitRatio: number
  /** Hits / requests over the requests that are not part of a scan (equal to hitRatio without scans). */
  readonly hitRatioOutsideScans: number
}

function ratios(trace: Trace, hit: boolean[]): Replay {
  let hits = 0
  let outside = 0
  let outsideHits = 0
  hit.forEach((h, i) => {
    if (h) hits++
    if (trace.scan?.[i] !== true) {
      outside++
      if (h) outsideHits++
    }
  })
  return { hitRatio: hits / hit.length, hitRatioOutsideScans: outside === 0 ? 0 : outsideHits / outside }
}

/** A read-through cache: a miss loads and stores the key (if it fits the budget at all). */
export function replay(trace: Trace, policy: EvictionPolicy, maxBytes: number): Replay {
  const map = createByteMap<string, number>(policy, { maxBytes, sizeOf: (bytes) => bytes })
  const hit = trace.keys.map((key) => {
    if (map.get(key) !== undefined) return true
    map.set(key, trace.sizeOf.get(key)!)
    return false
  })
  return ratios(trace, hit)
}

/**
 * Belady's MIN with sizes: on a miss the key is admitted, then the held keys whose next request
 * is farthest away (the new one included, so it may be refused) leave until the budget holds.
 * With unequal sizes this is the classic heuristic bound, not the exact optimum (which is
 * NP-hard); it is what caching papers report as "Belady".
 */
const NEVER = 2 ** 31 - 1

export function belady(trace: Trace, maxBytes: number): Replay {
  const { keys } = trace
  const nextUse = new Int32Array(keys.length)
  const seen = new Map<string, number>()
  for (let i = keys.length - 1; i >= 0; i--) {
    nextUse[i] = seen.get(keys[i]!) ?? NEVER
    seen.set(keys[i]!, i)
  }
  const heldNext = new Map<string, number>()
  const heap = new MaxHeap()
  let bytes = 0
  const hit = keys.map((key, i) => {
    const wasHeld = heldNext.has(key)
    if (!wasHeld) bytes += trace.sizeOf.get(key)!
    heldNext.set(key, nextUse[i]!)
    heap.push(nextUse[i]!, key)
    while (bytes > maxBytes) {
      const [at, victim] = heap.pop()!
      if (heldNext.get(victim) !== at) continue // a stale heap entry
      heldNext.delete(victim)
      bytes -= trace.sizeOf.get(victim)!
    }
    return wasHeld
  })
  return ratios(trace, hit)
}

/** A binary max-heap of (priority, key). */
class MaxHeap {
  private readonly at: number[] = []
  private readonly keys: string[] = []

  push(priority: number, key: string): void {
    let i = this.at.length
    this.at.push(priority)
    this.keys.push(key)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.at[parent]! >= this.at[i]!) break
      this.swap(i, parent)
      i = parent
    }
  }

  pop(): [number, string] | undefined {
    if (this.at.length === 0) return undefined
    const top: [number, string] = [this.at[0]!, this.keys[0]!]
    const lastAt = this.at.pop()!
    const lastKey = this.keys.pop()!
    if (this.at.length > 0) {
      this.at[0] = lastAt
      this.keys[0] = lastKey
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let largest = i
        if (l < this.at.length && this.at[l]! > this.at[largest]!) largest = l
        if (r < this.at.length && this.at[r]! > this.at[largest]!) largest = r
        if (largest === i) break
        this.swap(i, largest)
        i = largest
      }
    }
    return top
  }

  private swap(a: number, b: number): void {
    ;[this.at[a], this.at[b]] = [this.at[b]!, this.at[a]!]
    ;[this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!]
  }
}

/**
 * The best any frequency-based policy can do: the keys requested most over the whole trace
 * (counted offline) held from the start, most requested first while they fit; a first request is
 * still a miss. Belady's lead over this is what knowing the future order is worth.
 */
export function topByCount(trace: Trace, maxBytes: number): Replay {
  const counts = new Map<string, number>()
  for (const key of trace.keys) counts.set(key, (counts.get(key) ?? 0) + 1)
  const held = new Set<string>()
  let bytes = 0
  for (const key of [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)!)) {
    const size = trace.sizeOf.get(key)!
    if (bytes + size > maxBytes) continue
    bytes += size
    held.add(key)
  }
  const seen = new Set<string>()
  const hit = trace.keys.map((key) => {
    const isHit = held.has(key) && seen.has(key)
    seen.add(key)
    return isHit
  })
  return ratios(trace, hit)
}
