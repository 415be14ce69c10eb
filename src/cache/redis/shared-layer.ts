import type { SharedBound, SharedHit, SharedLayer, SharedValue } from '../shared.js'
import type { CircuitBreaker } from './breaker.js'
import type { ValueCodec } from './codec.js'
import { isCluster, isReady, type RedisClient } from './connection.js'
import { unlinkKeys, unlinkWithPrefix } from './keys.js'
import { GET_WITH_PTTL, HEAD_WITH_PTTL, SET_BOUNDED } from './scripts.js'

interface AgeScripts {
  getWithPttlBuffer(key: string): Promise<[Buffer, number] | null>
  headWithPttlBuffer(key: string): Promise<[Buffer, number] | null>
  setBounded(keys: number, ...args: Array<string | number | Buffer>): Promise<string[]>
}

/**
 * The index keys of a bounded group (see SET_BOUNDED): they start with the group's prefix, so a
 * clear of the group drops them with its values, and share one hash tag (one cluster slot).
 */
export function boundIndexKeys(keyPrefix: string, group: string): [index: string, sizes: string] {
  const base = `${keyPrefix}${group}`
  const tag = `{${base.replace(/[{}]/g, '')}}`
  return [`${base}~index${tag}`, `${base}~sizes${tag}`]
}

/**
 * The shared tier on Redis. Every key is `keyPrefix + key`; callers hash anything secret before
 * it becomes a key. Each call goes through the breaker: while it is open the layer answers at
 * once (get undefined, set nothing, delete and clear false) and never waits on Redis.
 */
export class RedisSharedLayer implements SharedLayer {
  private readonly redis: RedisClient & AgeScripts

  constructor(
    redis: RedisClient,
    private readonly breaker: CircuitBreaker,
    private readonly codec: ValueCodec,
    /** Prepended to every key, e.g. `komandorr:`. */
    readonly keyPrefix: string,
  ) {
    redis.defineCommand('getWithPttl', { numberOfKeys: 1, lua: GET_WITH_PTTL, readOnly: true })
    redis.defineCommand('headWithPttl', { numberOfKeys: 1, lua: HEAD_WITH_PTTL, readOnly: true })
    redis.defineCommand('setBounded', { lua: SET_BOUNDED })
    this.redis = redis as RedisClient & AgeScripts
  }

  async get(key: string): Promise<SharedHit | undefined> {
    const reply = await this.breaker.run(null, () => this.redis.getWithPttlBuffer(this.keyPrefix + key))
    return reply === null ? undefined : this.codec.decode(reply[0], reply[1])
  }

  /** The age of a stored value without reading it, or undefined when absent (or Redis cannot say). */
  async ageOf(key: string): Promise<number | undefined> {
    const reply = await this.breaker.run(null, () => this.redis.headWithPttlBuffer(this.keyPrefix + key))
    return reply === null ? undefined : this.codec.ageOf(reply[0], reply[1])
  }

  async set(key: string, value: SharedValue, ttlMs: number, staleMs: number, bound?: SharedBound): Promise<void> {
    const lifetimeMs = Math.ceil(ttlMs + staleMs)
    if (!this.breaker.closed || !(lifetimeMs > 0)) return
    const stored = await this.codec.encode(value, lifetimeMs)
    const full = this.keyPrefix + key
    if (bound === undefined) {
      await this.breaker.run(undefined, () => this.redis.set(full, stored, 'PX', lifetimeMs))
      return
    }
    const [index, sizes] = boundIndexKeys(this.keyPrefix, bound.group)
    const size = typeof stored === 'string' ? Buffer.byteLength(stored) : stored.length
    const args = [full, size, lifetimeMs, bound.maxKeys, bound.maxBytes]
    if (!isCluster(this.redis)) {
      await this.breaker.run(undefined, () => this.redis.setBounded(3, index, sizes, full, ...args, stored))
      return
    }
    // In a cluster the value key lives in another slot than the index: write it, then index it.
    const written = await this.breaker.run(
      false,
      async () => (await this.redis.set(full, stored, 'PX', lifetimeMs)) === 'OK',
    )
    if (!written) return
    const dropped = await this.breaker.run([] as string[], () => this.redis.setBounded(2, index, sizes, ...args, ''))
    if (dropped.length > 0) await this.breaker.run(0, () => unlinkKeys(this.redis, dropped))
  }

  async delete(keys: readonly string[]): Promise<boolean> {
    const full = keys.map((key) => this.keyPrefix + key)
    return this.breaker.run(false, async () => {
      await unlinkKeys(this.redis, full)
      return true
    })
  }

  async clear(prefix: string): Promise<boolean> {
    return this.breaker.run(false, async () => {
      // A cluster that is not ready lists no masters: that would be an empty clear, not a clear.
      if (!isReady(this.redis)) throw new Error(`Redis is ${this.redis.status}; the clear of "${prefix}" did not run`)
      await unlinkWithPrefix(this.redis, this.keyPrefix + prefix)
      return true
    })
  }
}
