import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { systemClock, type Clock } from '../clock.js'
import { messageOf } from '../entry.js'
import type { CacheLogger } from '../logger.js'
import type { CacheStats } from '../stats.js'
import { CircuitBreaker, type BreakerState } from './breaker.js'
import { RedisInvalidationBus } from './bus.js'
import { ClusterStatsPublisher, readClusterStats, type ClusterStats } from './cluster-stats.js'
import { ValueCodec, type CodecOptions } from './codec.js'
import { isReady, openCommandConnection, openSubscriberConnection, type RedisClient } from './connection.js'
import { createLeaderElection, type Leadership } from './leader.js'
import { RedisFlightCoordinator } from './lock.js'
import { DEFAULT_REDIS_TIMEOUT_MS, modeOf, type RedisMode, type RedisSettings } from './settings.js'
import { RedisSharedLayer } from './shared-layer.js'

export { BreakerCounts, CircuitBreaker } from './breaker.js'
export type { BreakerOptions, BreakerState } from './breaker.js'
export { BusCounts, RedisInvalidationBus } from './bus.js'
export type { TopicBus } from './bus.js'
export { ClusterStatsPublisher, readClusterStats } from './cluster-stats.js'
export type { ClusterStats } from './cluster-stats.js'
export { DEFAULT_COMPRESSION, ValueCodec } from './codec.js'
export type { Codec, CodecOptions } from './codec.js'
export { isReady, mastersOf, openCommandConnection, openSubscriberConnection } from './connection.js'
export type { RedisClient } from './connection.js'
export { keysWithPrefix, unlinkWithPrefix } from './keys.js'
export { createLeaderElection, soloLeadership } from './leader.js'
export type { LeaderElectionOptions, Leadership } from './leader.js'
export { LockCounts, RedisFlightCoordinator } from './lock.js'
export type { RedisFlightOptions } from './lock.js'
export { DEFAULT_REDIS_TIMEOUT_MS, modeOf } from './settings.js'
export type { RedisMode, RedisNode, RedisSettings } from './settings.js'
export { RedisSharedLayer } from './shared-layer.js'

/** What `cache/stats` and `/api/health` show of Redis. */
export interface RedisLayerStatus {
  readonly mode: RedisMode
  /** The command connection is up. */
  readonly connected: boolean
  /** The breaker: `closed` means Redis is in use. */
  readonly state: BreakerState
  /** The invalidation subscription is live. */
  readonly subscribed: boolean
  readonly lastError: string | null
  readonly instanceId: string
  readonly leader: boolean
}

export interface RedisLayerOptions {
  readonly clock?: Clock
  readonly logger?: CacheLogger
  /** Names this instance in the leader lease and the cluster stats. Default `<host>:<pid>:<random>`. */
  readonly instanceId?: string
  /** Default 15 s: a dead leader's jobs resume elsewhere within it. */
  readonly leaderLeaseMs?: number
  /** Default 5 s. */
  readonly lockLeaseMs?: number
  /** Default 5 s. */
  readonly statsIntervalMs?: number
  /** Default 500 ms. */
  readonly probeIntervalMs?: number
  /** Default 3. */
  readonly failureThreshold?: number
  readonly compression?: CodecOptions
}

/** The Redis pieces the cache registry and the runtime plug in. */
export interface RedisLayer {
  readonly instanceId: string
  readonly shared: RedisSharedLayer
  readonly coordinator: RedisFlightCoordinator
  readonly bus: RedisInvalidationBus
  /** The lease for the background jobs (stats, sync, monitor). */
  readonly leader: Leadership
  readonly breaker: CircuitBreaker
  /** The command connection (for drills and benchmarks; the layer owns it). */
  readonly redis: RedisClient
  status(): RedisLayerStatus
  /** Resolves true once Redis answers (the breaker closed), false after `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<boolean>
  /** Starts publishing this instance's counters for the cluster totals. Call once. */
  publishStats(source: () => readonly CacheStats[]): void
  /** Every live instance's counters summed, or undefined when Redis cannot say. */
  clusterStats(): Promise<ClusterStats | undefined>
  /** The totals as of the last publish (every few seconds), without waiting on Redis. */
  latestClusterStats(): ClusterStats | undefined
  /** Gives up the leader lease, stops the timers, closes both connections. */
  close(): Promise<void>
}

/**
 * Builds the Redis layer from `config.redis`: one command connection (standalone, Sentinel or
 * Cluster), one subscriber connection, a breaker in front of both, and the shared layer, the
 * cross-instance single flight, the invalidation bus and the leader lease on top.
 * Keys: `<prefix><cache key>` for values, `<prefix>lock:<cache key>`, `<prefix>leader:jobs`,
 * `<prefix>stats:instance:<id>`; channels `<prefix>invalidation` and `<prefix>topics`.
 */
export function createRedisLayer(settings: RedisSettings, options: RedisLayerOptions = {}): RedisLayer {
  const clock = options.clock ?? systemClock
  const logger = options.logger
  const prefix = settings.keyPrefix
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const timeoutMs = settings.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS

  const redis = openCommandConnection(settings)
  let closing = false
  let everConnected = false
  const breaker = new CircuitBreaker({
    clock,
    // Until the first connect: calls would only fail ("stream isn't writeable") and count.
    startOpen: true,
    deadlineMs: timeoutMs,
    probe: () => redis.ping(),
    probeIntervalMs: options.probeIntervalMs,
    failureThreshold: options.failureThreshold,
    onChange: (state, lastError) => {
      const fields = { state, error: lastError, mode: modeOf(settings) }
      if (state === 'closed') {
        logger?.info(
          fields,
          everConnected ? 'Redis answers again: the shared cache layer is back in use' : 'connected to Redis',
        )
        everConnected = true
        void coordinator.releaseOrphans()
      } else if (state === 'open' && everConnected && !closing) {
        logger?.warn(fields, `Redis failed or took over ${timeoutMs} ms: serving from memory until it answers`)
      }
    },
  })
  redis.on('error', (error: unknown) => breaker.failed(error))
  redis.on('close', () => {
    if (!closing) breaker.trip(new Error('the connection to Redis closed'))
  })
  redis.on('ready', () => breaker.probeSoon())

  const shared = new RedisSharedLayer(redis, breaker, new ValueCodec(options.compression), prefix)
  const coordinator = new RedisFlightCoordinator({
    redis,
    breaker,
    clock,
    shared,
    lockPrefix: `${prefix}lock:`,
    leaseMs: options.lockLeaseMs,
  })
  const bus = new RedisInvalidationBus({
    publisher: redis,
    breaker,
    connectSubscriber: (attempt) => openSubscriberConnection(settings, attempt),
    channel: `${prefix}invalidation`,
    topicChannel: `${prefix}topics`,
    origin: instanceId,
    logger,
  })
  const leader = createLeaderElection({
    redis,
    key: `${prefix}leader:jobs`,
    leaseMs: options.leaderLeaseMs ?? 15_000,
    clock,
    id: instanceId,
    logger,
  })
  const statsPrefix = `${prefix}stats:instance:`
  let stats: ClusterStatsPublisher | undefined

  return {
    instanceId,
    shared,
    coordinator,
    bus,
    leader,
    breaker,
    redis,
    status: () => ({
      mode: modeOf(settings),
      connected: isReady(redis),
      state: breaker.state,
      subscribed: bus.subscribed,
      lastError: breaker.lastError,
      instanceId,
      leader: leader.isLeader,
    }),
    whenConnected: (timeoutMs) => breaker.whenClosed(timeoutMs),
    publishStats(source) {
      if (stats !== undefined) throw new Error('publishStats was already called for this Redis layer')
      stats = new ClusterStatsPublisher({
        redis,
        breaker,
        clock,
        keyPrefix: statsPrefix,
        instanceId,
        intervalMs: options.statsIntervalMs,
        source,
      })
    },
    clusterStats: () => readClusterStats(redis, breaker, statsPrefix),
    latestClusterStats: () => stats?.latest,
    async close() {
      if (closing) return
      closing = true
      await Promise.all([leader.close(), stats?.stop()])
      breaker.stop()
      await bus.close()
      try {
        await redis.quit()
      } catch (error) {
        logger?.debug({ error: messageOf(error) }, 'Redis quit failed; disconnecting')
        redis.disconnect()
      }
    },
  }
}
