/** A seeded PRNG returning floats in [0, 1). */
export type Rng = () => number

/** mulberry32: tiny, fast, and good enough for generating test data deterministically. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Stateless hash of up to three integers to a uint32, so per-item attributes can be
 * derived on demand instead of stored (a 100k-item library keeps only its structure).
 */
export function hash32(a: number, b: number, c = 0): number {
  let h =
    Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^
    Math.imul(b + 0x7f4a7c15, 0xc2b2ae35) ^
    Math.imul(c + 0x165667b1, 0x27d4eb2f)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Maps a uint32 hash to [0, 1). */
export function unit(h: number): number {
  return h / 4294967296
}

export function pick<T>(list: readonly T[], r: number): T {
  return list[Math.floor(r * list.length) % list.length] as T
}

export function intBetween(r: number, lo: number, hi: number): number {
  return lo + Math.floor(r * (hi - lo + 1))
}

/** Weighted choice: weights need not sum to 1. */
export function pickWeighted<T>(entries: readonly (readonly [T, number])[], r: number): T {
  let total = 0
  for (const [, w] of entries) total += w
  let x = r * total
  for (const [value, w] of entries) {
    x -= w
    if (x < 0) return value
  }
  return entries[entries.length - 1]![0]
}

const HEX = '0123456789abcdef'

export function hexString(rng: Rng, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += HEX[Math.floor(rng() * 16)]
  return s
}

/** A v4-shaped uuid from the PRNG (deterministic, unlike crypto.randomUUID). */
export function uuidFrom(rng: Rng): string {
  const h = hexString(rng, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${HEX[8 + Math.floor(rng() * 4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'

export function alnumString(rng: Rng, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += ALNUM[Math.floor(rng() * ALNUM.length)]
  return s
}
