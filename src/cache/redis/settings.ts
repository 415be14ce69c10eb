/** Where Redis is and how long a call may take; `config.redis` has this shape. */
export interface RedisSettings {
  /** When set, it wins over host/port/db/password (redis:// or rediss://). */
  readonly url: string | null
  readonly host: string
  readonly port: number
  readonly db: number
  readonly password: string | null
  /** Namespace of every key and channel the layer writes, e.g. `komandorr:`. */
  readonly keyPrefix: string
  /** Redis Sentinel: the sentinels to ask for the master named `sentinelName`. Empty for none. */
  readonly sentinels?: readonly RedisNode[]
  readonly sentinelName?: string
  /** Redis Cluster: seed nodes. Non-empty means cluster mode. */
  readonly clusterNodes?: readonly RedisNode[]
  /** Deadline of every Redis call, in ms. Default 50. */
  readonly timeoutMs?: number
}

export interface RedisNode {
  readonly host: string
  readonly port: number
}

export const DEFAULT_REDIS_TIMEOUT_MS = 50

export type RedisMode = 'standalone' | 'sentinel' | 'cluster'

export function modeOf(settings: RedisSettings): RedisMode {
  if ((settings.clusterNodes?.length ?? 0) > 0) return 'cluster'
  if ((settings.sentinels?.length ?? 0) > 0) return 'sentinel'
  return 'standalone'
}
