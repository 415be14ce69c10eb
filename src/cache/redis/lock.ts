import { randomUUID } from 'node:crypto'
import type { Clock, TimerHandle } from '../clock.js'
import type { FlightCoordinator } from '../flight.js'
import type { CircuitBreaker } from './breaker.js'
import type { RedisClient } from './connection.js'
import { EXTEND_IF_OWNER, RELEASE_IF_OWNER } from './scripts.js'
import type { RedisSharedLayer } from './shared-layer.js'

export interface RedisFlightOptions {
  readonly redis: RedisClient
  readonly breaker: CircuitBreaker
  readonly clock: Clock
  /** Lock keys are `lockPrefix + cache key`, e.g. `komandorr:lock:plex:sessions`. */
  readonly lockPrefix: string
  /** Where the values are: a holder checks that no one wrote the key a moment ago. */
  readonly shared: Pick<RedisSharedLayer, 'ageOf'>
  /**
   * How long a lock outlives a holder that died. The holder extends it every third of this
   * while its load runs, so a slow load keeps it. Default 5 s.
   */
  readonly leaseMs?: number
  /** How long a waiter waits for another instance's load before loading itself. Default 30 s (the loader timeout). */
  readonly maxWaitMs?: number
}

interface OwnerScripts {
  releaseIfOwner(key: string, token: string): Promise<number>
  extendIfOwner(key: string, token: string, ms: number): Promise<number>
}

/** Lock outcomes since start, for metrics. */
export class LockCounts {
  /** Loads run under this instance's lock. */
  acquired = 0
  /** Loads that waited for another instance's lock instead of loading. */
  waits = 0
  /** Loads run here without a lock because Redis was unavailable. */
  unlocked = 0
}

/** Waiters look for the lock's release at 5, 10, 20, then every 25 ms. */
const FIRST_POLL_MS = 5
const MAX_POLL_MS = 25

/**
 * A value this young was written by a load that finished while we were deciding to load: an
 * instance that missed the shared layer just before another wrote it finds the lock free again.
 * One second covers that gap under load and is short beside every TTL.
 */
const JUST_LOADED_MS = 1_000

/**
 * Cross-instance single flight on a Redis lock with a lease: `SET lock token NX PX lease`. The
 * instance that gets the lock loads (and writes the shared layer before it lets go), unless the
 * value was written a moment ago; the others poll until the lock is gone and resolve undefined,
 * and the cache takes the value from the shared layer. Release and extension check the token in
 * Lua, so an instance never frees a lock it lost to expiry. With the breaker open, or on any
 * Redis error, the load runs here at once.
 */
export class RedisFlightCoordinator implements FlightCoordinator {
  private readonly redis: RedisClient & OwnerScripts
  private readonly leaseMs: number
  private readonly maxWaitMs: number
  /**
   * Tokens of locks that may be in Redis with no one to release them: a release that failed, or
   * a SET NX that missed its deadline and may still have landed. Freed before their key is
   * locked again, and whenever Redis answers again.
   */
  private readonly orphans = new Map<string, string[]>()
  /** Live counts; read, never write. */
  readonly counts = new LockCounts()

  constructor(private readonly options: RedisFlightOptions) {
    options.redis.defineCommand('releaseIfOwner', { numberOfKeys: 1, lua: RELEASE_IF_OWNER })
    options.redis.defineCommand('extendIfOwner', { numberOfKeys: 1, lua: EXTEND_IF_OWNER })
    this.redis = options.redis as RedisClient & OwnerScripts
    this.leaseMs = options.leaseMs ?? 5_000
    this.maxWaitMs = options.maxWaitMs ?? 30_000
  }

  async run<T>(key: string, load: () => Promise<T>): Promise<T | undefined> {
    const { breaker, lockPrefix } = this.options
    if (!breaker.closed) {
      this.counts.unlocked++
      return load()
    }
    const lockKey = lockPrefix + key
    // Our own lock left over from an outage would make us wait out its lease for nothing.
    if (this.orphans.has(lockKey)) await this.releaseOrphan(lockKey)
    const token = randomUUID()
    const answer = await breaker.run('failed' as const, () => this.redis.set(lockKey, token, 'PX', this.leaseMs, 'NX'))
    if (answer === 'failed') {
      // The SET may have landed after its deadline: a lock no one would release.
      this.addOrphan(lockKey, token)
      this.counts.unlocked++
      try {
        return await load()
      } finally {
        void this.releaseOrphan(lockKey)
      }
    }
    if (answer !== 'OK') {
      this.counts.waits++
      await this.waitForRelease(lockKey)
      return undefined
    }
    const ageMs = await this.options.shared.ageOf(key)
    if (ageMs !== undefined && ageMs < JUST_LOADED_MS) {
      void this.release(lockKey, token)
      return undefined
    }
    this.counts.acquired++
    const stopExtending = this.keepExtended(lockKey, token)
    try {
      return await load()
    } finally {
      stopExtending()
      void this.release(lockKey, token)
    }
  }

  /** Retries the releases that failed; the layer calls this when Redis answers again. */
  async releaseOrphans(): Promise<void> {
    await Promise.all([...this.orphans.keys()].map((lockKey) => this.releaseOrphan(lockKey)))
  }

  private async release(lockKey: string, token: string): Promise<void> {
    const released = await this.options.breaker.run(-1, () => this.redis.releaseIfOwner(lockKey, token))
    if (released === -1) this.addOrphan(lockKey, token)
  }

  private addOrphan(lockKey: string, token: string): void {
    const tokens = this.orphans.get(lockKey)
    if (tokens === undefined) this.orphans.set(lockKey, [token])
    else tokens.push(token)
  }

  private async releaseOrphan(lockKey: string): Promise<void> {
    const tokens = this.orphans.get(lockKey)
    if (tokens === undefined) return
    this.orphans.delete(lockKey)
    await Promise.all(tokens.map((token) => this.release(lockKey, token)))
  }

  /** Resolves when the lock is gone, the breaker opens, or after `maxWaitMs`. */
  private waitForRelease(lockKey: string): Promise<void> {
    const { clock, breaker } = this.options
    const deadline = clock.now() + this.maxWaitMs
    return new Promise<void>((resolve) => {
      let delay = FIRST_POLL_MS
      const poll = (): void => {
        // A failed poll (-1) is not a release: keep polling until the breaker opens.
        void breaker
          .run(-1, () => this.redis.exists(lockKey))
          .then((held) => {
            if (held === 0 || !breaker.closed || clock.now() >= deadline) return resolve()
            delay = Math.min(delay * 2, MAX_POLL_MS)
            clock.setTimer(poll, Math.min(delay, deadline - clock.now()))
          })
      }
      clock.setTimer(poll, delay)
    })
  }

  /** Extends the lock every third of the lease until the returned function is called. */
  private keepExtended(lockKey: string, token: string): () => void {
    const { clock, breaker } = this.options
    let timer: TimerHandle | undefined
    let stopped = false
    const extend = (): void => {
      void breaker
        .run(0, () => this.redis.extendIfOwner(lockKey, token, this.leaseMs))
        .then(() => {
          if (!stopped) timer = clock.setTimer(extend, this.leaseMs / 3)
        })
    }
    timer = clock.setTimer(extend, this.leaseMs / 3)
    return () => {
      stopped = true
      if (timer !== undefined) clock.clearTimer(timer)
    }
  }
}
