import type { Clock, TimerHandle } from '../clock.js'
import { CacheCounters, type CacheStats, type CounterValues } from '../stats.js'
import type { CircuitBreaker } from './breaker.js'
import type { RedisClient } from './connection.js'
import { keysWithPrefix } from './keys.js'

/** The raw counters of every instance, summed per cache. */
export interface ClusterStats {
  /** Instances that published within the last few intervals (this one included). */
  readonly instances: readonly string[]
  readonly caches: ReadonlyArray<{ readonly name: string } & CounterValues>
}

export interface StatsPublisherOptions {
  readonly redis: RedisClient
  readonly breaker: CircuitBreaker
  readonly clock: Clock
  /** Hash keys are `keyPrefix + instanceId`, e.g. `komandorr:stats:instance:<id>`. */
  readonly keyPrefix: string
  readonly instanceId: string
  /** Default 5 s; a hash expires after three intervals without a publish. */
  readonly intervalMs?: number
  readonly source: () => readonly CacheStats[]
}

const COUNTER_NAMES = Object.keys(new CacheCounters()) as Array<keyof CounterValues>

/**
 * Publishes this instance's raw counters to a Redis hash (one field per cache, its counters as
 * JSON) every `intervalMs`, with an expiry, so that an instance that stops also drops out of
 * the totals; then reads the totals of every live instance into `latest`.
 */
export class ClusterStatsPublisher {
  private readonly intervalMs: number
  private readonly key: string
  private timer: TimerHandle | undefined
  private stopped = false
  private snapshot: ClusterStats | undefined

  constructor(private readonly options: StatsPublisherOptions) {
    this.intervalMs = options.intervalMs ?? 5_000
    this.key = options.keyPrefix + options.instanceId
    this.timer = options.clock.setTimer(() => void this.tick(), 0)
  }

  /** Writes the counters now; false when Redis did not take them. */
  async publish(): Promise<boolean> {
    const fields: Record<string, string> = {}
    for (const stats of this.options.source()) fields[stats.name] = JSON.stringify(pickCounters(stats))
    if (Object.keys(fields).length === 0) return true
    const { redis, breaker } = this.options
    return breaker.run(false, async () => {
      // One key, so a MULTI is fine on a cluster too.
      await redis
        .multi()
        .del(this.key)
        .hset(this.key, fields)
        .pexpire(this.key, this.intervalMs * 3)
        .exec()
      return true
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    await this.options.breaker.run(0, () => this.options.redis.unlink(this.key))
  }

  /** The totals as of the last publish, for readers that must not wait on Redis. */
  get latest(): ClusterStats | undefined {
    return this.snapshot
  }

  private async tick(): Promise<void> {
    if (await this.publish()) {
      const { redis, breaker, keyPrefix } = this.options
      this.snapshot = (await readClusterStats(redis, breaker, keyPrefix)) ?? this.snapshot
    }
    if (!this.stopped) this.timer = this.options.clock.setTimer(() => void this.tick(), this.intervalMs)
  }
}

/** Every live instance's counters summed per cache, or undefined when Redis cannot say. */
export async function readClusterStats(
  redis: RedisClient,
  breaker: CircuitBreaker,
  keyPrefix: string,
): Promise<ClusterStats | undefined> {
  return breaker.run(undefined, async () => {
    const keys = await keysWithPrefix(redis, keyPrefix)
    const hashes = await Promise.all(keys.map((key) => redis.hgetall(key)))
    const totals = new Map<string, CounterValues>()
    const instances: string[] = []
    hashes.forEach((hash, i) => {
      if (Object.keys(hash).length === 0) return
      instances.push(keys[i]!.slice(keyPrefix.length))
      for (const [name, json] of Object.entries(hash)) addCounters(totals, name, json)
    })
    return {
      instances: instances.sort(),
      caches: [...totals].map(([name, counters]) => ({ name, ...counters })),
    }
  })
}

function pickCounters(stats: CacheStats): CounterValues {
  const counters = {} as CounterValues
  for (const name of COUNTER_NAMES) counters[name] = stats[name]
  return counters
}

function addCounters(totals: Map<string, CounterValues>, name: string, json: string): void {
  let parsed: Record<string, unknown>
  try {
    parsed = JSON.parse(json) as Record<string, unknown>
  } catch {
    return
  }
  let total = totals.get(name)
  if (total === undefined) {
    total = { ...new CacheCounters() }
    totals.set(name, total)
  }
  for (const counter of COUNTER_NAMES) {
    const value = parsed[counter]
    if (typeof value === 'number' && Number.isFinite(value)) total[counter] += value
  }
}
