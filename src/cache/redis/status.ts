import type { ClusterStats } from './cluster-stats.js'
import type { RedisLayer } from './index.js'

/** The `redis` block of `GET /api/plex/cache/stats`. */
export interface RedisStatus {
  type: 'redis' | 'memory'
  enabled: boolean
  connected: boolean
  /** e.g. `disabled`, `connected`, `circuit-open`. */
  state: string
  last_error: string | null
  // With Redis (ours):
  mode?: string
  subscribed?: boolean
  instance_id?: string
  leader?: boolean
  /** Every live instance's counters summed, as of their last publish (every few seconds). */
  cluster?: ClusterReport | null
}

export interface ClusterReport {
  instances: number
  instance_ids: string[]
  caches: Array<{
    name: string
    hits: number
    misses: number
    coalesced: number
    total_requests: number
    hit_rate: string
    stale_serves: number
    shared_hits: number
    refreshes: number
    loads: number
    errors: number
    evictions: number
    entries: number
    bytes: number
  }>
}

/** The redis block while the service runs without Redis. */
export function memoryOnlyRedisStatus(): RedisStatus {
  return { type: 'memory', enabled: false, connected: false, state: 'disabled', last_error: null }
}

/** The redis block with the Redis layer: breaker state (`closed` = in use, `open`, `half-open`) and cluster totals. */
export function redisLayerStatus(layer: Pick<RedisLayer, 'status' | 'latestClusterStats'>): RedisStatus {
  const status = layer.status()
  const cluster = layer.latestClusterStats()
  return {
    type: 'redis',
    enabled: true,
    connected: status.connected,
    state: status.state,
    last_error: status.lastError,
    mode: status.mode,
    subscribed: status.subscribed,
    instance_id: status.instanceId,
    leader: status.leader,
    cluster: cluster === undefined ? null : clusterReport(cluster),
  }
}

/** The `redis` field of `/api/health` with the Redis layer: `connected` while Redis is in use, else `unavailable`. */
export function redisHealth(layer: Pick<RedisLayer, 'status'>): Readonly<Record<string, unknown>> {
  const status = layer.status()
  return {
    status: status.connected && status.state === 'closed' ? 'connected' : 'unavailable',
    mode: status.mode,
    state: status.state,
    subscribed: status.subscribed,
    leader: status.leader,
    last_error: status.lastError,
  }
}

function clusterReport(cluster: ClusterStats): ClusterReport {
  return {
    instances: cluster.instances.length,
    instance_ids: [...cluster.instances],
    caches: cluster.caches.map((c) => {
      const requests = c.hits + c.misses + c.coalesced
      return {
        name: c.name,
        hits: c.hits,
        misses: c.misses,
        coalesced: c.coalesced,
        total_requests: requests,
        hit_rate: `${(requests === 0 ? 0 : (c.hits / requests) * 100).toFixed(1)}%`,
        stale_serves: c.staleServes,
        shared_hits: c.sharedHits,
        refreshes: c.refreshes,
        loads: c.loads,
        errors: c.loadErrors,
        evictions: c.evictions,
        entries: c.entries,
        bytes: c.bytes,
      }
    }),
  }
}
