import type { Registry } from 'prom-client'
import type { RedisLayer } from '../cache/redis/index.js'
import { registerSnapshot, type SnapshotMetricSpec } from './snapshot-metric.js'

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const

/**
 * The `redis_*` metrics of the shared layer: breaker state and its counts, bus traffic, cluster
 * lock outcomes, and the cluster as last published (all held in memory: a scrape sends Redis
 * nothing). Without Redis only `redis_enabled 0` is exported.
 */
export function registerRedisMetrics(registry: Registry, redis: RedisLayer | undefined): void {
  registerSnapshot(registry, {
    name: 'redis_enabled',
    help: 'Whether the Redis shared layer is configured.',
    type: 'gauge',
    read: () => [{ labels: {}, value: redis ? 1 : 0 }],
  })
  if (redis === undefined) return
  const { breaker, bus, coordinator } = redis
  const scalar = (name: string, help: string, type: SnapshotMetricSpec['type'], value: () => number) =>
    registerSnapshot(registry, { name, help, type, read: () => [{ labels: {}, value: value() }] })

  scalar('redis_up', 'Redis answers and is in use (connected, breaker closed).', 'gauge', () => {
    const status = redis.status()
    return status.connected && status.state === 'closed' ? 1 : 0
  })
  registerSnapshot(registry, {
    name: 'redis_breaker_state',
    help: 'The circuit breaker in front of Redis: 1 for its current state (closed = in use).',
    type: 'gauge',
    read: () => BREAKER_STATES.map((state) => ({ labels: { state }, value: breaker.state === state ? 1 : 0 })),
  })
  scalar(
    'redis_breaker_opens_total',
    'Times the breaker opened (Redis failed or missed its deadline repeatedly).',
    'counter',
    () => breaker.counts.opens,
  )
  scalar('redis_calls_total', 'Calls sent to Redis through the breaker.', 'counter', () => breaker.counts.calls)
  scalar(
    'redis_call_failures_total',
    'Redis calls and probes that failed or missed their deadline, and connection errors.',
    'counter',
    () => breaker.counts.failures,
  )
  scalar(
    'redis_calls_rejected_total',
    'Calls answered from memory at once because the breaker was open.',
    'counter',
    () => breaker.counts.rejected,
  )
  registerSnapshot(registry, {
    name: 'redis_bus_messages_total',
    help: 'Invalidation messages and announcements: published, failed to publish, received.',
    type: 'counter',
    read: () => [
      { labels: { direction: 'published' }, value: bus.counts.published },
      { labels: { direction: 'failed' }, value: bus.counts.publishFailures },
      { labels: { direction: 'received' }, value: bus.counts.received },
    ],
  })
  registerSnapshot(registry, {
    name: 'redis_lock_loads_total',
    help: 'Loads of shared caches by cluster lock outcome: acquired (loaded here under the lock), waited (another instance loaded), unlocked (Redis unavailable: loaded here).',
    type: 'counter',
    read: () => [
      { labels: { outcome: 'acquired' }, value: coordinator.counts.acquired },
      { labels: { outcome: 'waited' }, value: coordinator.counts.waits },
      { labels: { outcome: 'unlocked' }, value: coordinator.counts.unlocked },
    ],
  })
  scalar('redis_bus_subscribed', 'The invalidation subscription is live.', 'gauge', () => (bus.subscribed ? 1 : 0))
  scalar('redis_leader', 'This instance holds the background jobs lease.', 'gauge', () =>
    redis.leader.isLeader ? 1 : 0,
  )
  scalar(
    'redis_cluster_instances',
    'Instances that published their counters lately, as last read.',
    'gauge',
    () => redis.latestClusterStats()?.instances.length ?? 0,
  )
}
