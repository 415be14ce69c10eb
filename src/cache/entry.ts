import { hash } from 'node:crypto'

/** What a read did: served fresh, loaded, served a stale value, or waited on another read's load. */
export type CacheOutcome = 'hit' | 'miss' | 'stale' | 'coalesced'

/** One cached value, immutable once stored. */
export interface CacheEntry<V> {
  readonly value: V
  /** The value serialized once, at fill: answer with this, never serialize again. */
  readonly json: string
  /** A strong ETag (quoted) computed from `json`. */
  readonly etag: string
  /** Monotonic ms when the value entered (in the past for a value taken from the shared layer). */
  readonly loadedAt: number
  /** Epoch ms of the upstream fetch, for display. */
  readonly fetchedAt: number
  /** UTF-8 bytes of `json`: what the memory budget counts. */
  readonly bytes: number
}

export interface CacheRead<V> {
  readonly entry: CacheEntry<V>
  readonly outcome: CacheOutcome
  /**
   * Why a stale value was served: the upstream's error. A stale read without one is a value
   * served past its TTL while its reload is in flight.
   */
  readonly error?: unknown
}

/**
 * A value its loader serialized itself (off the event loop: a page of thousands of rows takes
 * tens of ms to build and stringify): the cache keeps this JSON, ETag (of the JSON alone) and
 * size as they are, and parses the JSON only if someone reads the value.
 */
export class Serialized<V> {
  declare private readonly valueType?: V

  constructor(
    readonly json: string,
    readonly etag: string,
    readonly bytes: number,
  ) {}
}

export function etagOf(json: string, scopeId?: string): string {
  return `"${hash('sha1', scopeId === undefined ? json : `${scopeId}\n${json}`, 'base64url')}"`
}

/** Serializes a loaded value; a value without a JSON form is the loader's error. */
export function serialize(value: unknown, what: string): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (error) {
    throw new Error(`${what}: the loaded value cannot be serialized to JSON (${messageOf(error)})`)
  }
  if (json === undefined) {
    throw new Error(`${what}: the loader returned ${typeof value}, which has no JSON form`)
  }
  return json
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
