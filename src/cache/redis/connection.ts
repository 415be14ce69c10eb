import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { DEFAULT_REDIS_TIMEOUT_MS, modeOf, type RedisSettings } from './settings.js'

/** A command connection: one server (standalone or found through Sentinel), or a whole cluster. */
export type RedisClient = Redis | Cluster

/** Reconnect attempts back off to this; a Redis that comes back is reached again within it. */
const MAX_RECONNECT_DELAY_MS = 500

/** A cluster subscriber gives up on one node after this many failed reconnects and tries the next. */
const SUBSCRIBER_ATTEMPTS_PER_NODE = 3

const reconnectDelay = (times: number): number => Math.min(25 * 2 ** Math.min(times, 5), MAX_RECONNECT_DELAY_MS)

/**
 * What every connection shares: no offline queue and a deadline on every command, so that a
 * dead or frozen Redis makes calls fail at once or within the deadline, never pile up.
 */
function baseOptions(settings: RedisSettings, name: string): RedisOptions {
  const timeoutMs = settings.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  return {
    db: settings.db,
    password: settings.password ?? undefined,
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // The deadline callers see is the breaker's (withDeadline); this backstop only keeps a
    // frozen server from growing the reply queue without end.
    commandTimeout: Math.max(1_000, timeoutMs * 10),
    // A blackholed host would otherwise hold a connect for 10 s; commands fail fast meanwhile anyway.
    connectTimeout: Math.max(1_000, timeoutMs * 20),
    retryStrategy: reconnectDelay,
  }
}

/** The connection for commands (and PUBLISH), with the settings' mode. */
export function openCommandConnection(settings: RedisSettings, name = 'komandorr-cache'): RedisClient {
  const options = baseOptions(settings, name)
  if (modeOf(settings) === 'cluster') {
    const { db: _db, retryStrategy: _retry, enableOfflineQueue: _queue, ...nodeOptions } = options
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      enableReadyCheck: true,
      scaleReads: 'master',
      maxRedirections: 4,
      retryDelayOnFailover: 20,
      retryDelayOnClusterDown: 20,
      retryDelayOnTryAgain: 20,
      slotsRefreshTimeout: Math.max(1_000, (settings.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS) * 20),
      clusterRetryStrategy: reconnectDelay,
      redisOptions: nodeOptions,
    }
    return new Cluster(
      settings.clusterNodes!.map((node) => ({ host: node.host, port: node.port })),
      clusterOptions,
    )
  }
  return openServerConnection(settings, options)
}

/**
 * A connection for SUBSCRIBE, attempt `attempt` (0, 1, …). The caller subscribes on every
 * `ready` itself. Standalone and Sentinel reconnect forever; in a cluster (where a PUBLISH
 * reaches every node) the connection ends after a few failed reconnects, and the next attempt
 * goes to the next seed node.
 */
export function openSubscriberConnection(settings: RedisSettings, attempt: number): Redis {
  const options: RedisOptions = { ...baseOptions(settings, 'komandorr-cache:bus'), autoResubscribe: false }
  // A subscriber waits for messages, not for replies: no command deadline while it listens.
  delete options.commandTimeout
  if (modeOf(settings) === 'cluster') {
    const nodes = settings.clusterNodes!
    const node = nodes[attempt % nodes.length]!
    return new Redis({
      ...options,
      db: 0,
      host: node.host,
      port: node.port,
      retryStrategy: (times) => (times > SUBSCRIBER_ATTEMPTS_PER_NODE ? null : reconnectDelay(times)),
    })
  }
  return openServerConnection(settings, options)
}

/** One server: through Sentinel, from the URL, or from host and port. */
function openServerConnection(settings: RedisSettings, options: RedisOptions): Redis {
  if (modeOf(settings) === 'sentinel') {
    return new Redis({
      ...options,
      sentinels: settings.sentinels!.map((node) => ({ host: node.host, port: node.port })),
      name: settings.sentinelName ?? 'mymaster',
      sentinelRetryStrategy: reconnectDelay,
    })
  }
  if (settings.url !== null) return new Redis(settings.url, options)
  return new Redis({ ...options, host: settings.host, port: settings.port })
}

/** Every master of the client: the one server, or each master of the cluster (for SCAN). */
export function mastersOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client]
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster
}

/** Whether the connection is up and answering (`ready`). */
export function isReady(client: RedisClient): boolean {
  return client.status === 'ready'
}
