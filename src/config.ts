import { z } from 'zod'
import path from 'node:path'
import type { EvictionPolicy } from './cache/eviction/index.js'
import type { LogLevel } from './logger.js'
import {
  ConfigError,
  EnvReader,
  type Env,
  rule,
  digits,
  positiveSeconds,
  nonNegativeSeconds,
  positiveInteger,
  port,
  fraction,
  bool,
  text,
  eviction,
  bytes,
  nonEmptyText,
  httpUrl,
  redisUrl,
  postgresUrl,
  hostPortList,
  logLevel,
  corsOrigins,
  frontendDir,
} from './config-rules.js'

export { ConfigError }

/**
 * Every setting of the service, read once from environment variables.
 * Durations arrive in seconds and are kept in milliseconds, with the unit in the name.
 */
export interface Config {
  readonly host: string
  readonly port: number
  /** Slow clients: a request must be whole, and its headers in, within these; an idle keep-alive connection closes after the last. */
  readonly http: {
    readonly requestTimeoutMs: number
    readonly headersTimeoutMs: number
    readonly keepAliveTimeoutMs: number
  }
  /** What one client may cost the others (README, "Limits"). */
  readonly limits: {
    /** HEAVY_QUERIES_PER_CLIENT: watch-history pages loading at once for one client address, default 2. */
    readonly heavyQueriesPerClient: number
    /** HEAVY_QUERIES_MAX: the same for all clients together, default 4. */
    readonly heavyQueriesMax: number
    /** Failed Basic sign-ins (`LoginLimits`). */
    readonly login: {
      /** LOGIN_FAILURES_PER_CLIENT: failed sign-ins one client address may make within the window, default 10. */
      readonly perClient: number
      /** LOGIN_FAILURE_WINDOW: that window (s), and how long credentials that failed are refused at once; default 60. */
      readonly windowMs: number
      /** LOGIN_FAILURES_PER_SECOND: failed sign-ins a second from all clients together, default 10. */
      readonly perSecond: number
      /** LOGIN_CHECK_CONCURRENCY: password checks (scrypt) running at once, default 2. */
      readonly concurrency: number
    }
  }
  /** FRONTEND_DIR, absolute: a built Komandorr frontend to serve; null serves none. */
  readonly frontendDir: string | null
  /** KOMANDORR_URL: a Komandorr backend to stand in front of; null: standalone, answering its routes here. */
  readonly komandorrUrl: string | null
  /** Allowed browser origins; `['*']` allows any. */
  readonly corsOrigins: readonly string[]
  readonly logLevel: LogLevel
  readonly database: {
    /** DATABASE_PATH: the SQLite file (or `:memory:`), used while `url` is null. */
    readonly path: string
    /** DATABASE_URL: a postgres:// URL; when set, PostgreSQL is the database (TLS through `sslmode`). */
    readonly url: string | null
    /** DATABASE_POOL_SIZE: PostgreSQL connections per instance, default 10. */
    readonly poolSize: number
    /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels a statement running longer, default 30000. */
    readonly statementTimeoutMs: number
  }
  readonly auth: {
    readonly enabled: boolean
    readonly username: string
    readonly password: string
  }
  readonly plex: {
    /** Without a trailing slash; null when not configured. */
    readonly serverUrl: string | null
    readonly token: string | null
    readonly serverName: string
    /** plex.tv base URL, configurable so tests can point it at the simulator. */
    readonly plexTvUrl: string
    /** PLEX_MAX_RESPONSE_BYTES: the largest reply body read from Plex (default 64 MiB); a larger one is cut off, 502. */
    readonly maxResponseBytes: number
    /** PLEX_PROXY_PORT: where the service also answers as the PMS itself (the mirror); null: off. */
    readonly proxyPort: number | null
  }
  readonly redis: {
    /** REDIS_ENABLED=true, a REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES. */
    readonly enabled: boolean
    /** When set, it wins over host/port/db/password. */
    readonly url: string | null
    readonly host: string
    readonly port: number
    readonly db: number
    readonly password: string | null
    readonly keyPrefix: string
    /** REDIS_SENTINELS (`host:port,…`): ask these sentinels for the master `sentinelName`. */
    readonly sentinels: readonly HostPort[]
    /** REDIS_SENTINEL_NAME, default `mymaster`. */
    readonly sentinelName: string
    /** REDIS_CLUSTER_NODES (`host:port,…`): Redis Cluster seed nodes; wins over the rest. */
    readonly clusterNodes: readonly HostPort[]
    /** REDIS_TIMEOUT_MS: the deadline of every Redis call, default 50. */
    readonly timeoutMs: number
    /** REDIS_LEADER_LEASE (s): a dead leader's background jobs resume elsewhere within it. Default 15. */
    readonly leaderLeaseMs: number
  }
  readonly cache: {
    /** Per cache name, from the TTL variable each cache declares (features/caches/). */
    readonly ttlMs: Readonly<Record<string, number>>
    readonly maxStaleMs: number
    /** Fraction of the TTL after which an in-demand entry is reloaded in the background. */
    readonly warmThreshold: number
    readonly warmIdleMs: number
    /** How long a reader waits for a load while an older value is held, before taking it stale. */
    readonly softTimeoutMs: number
    readonly maxBytes: number
    /** CACHE_MAX_BYTES_PER_SCOPE: what one viewer's entries may hold; null: maxBytes / 16. */
    readonly maxBytesPerScope: number | null
    /** CACHE_EVICTION: what leaves the memory layer when CACHE_MAX_BYTES is full. Default `lru`. */
    readonly eviction: EvictionPolicy
  }
  /** The poster cache (`plex_images`): its own memory and disk tiers, outside CACHE_MAX_BYTES. */
  readonly images: {
    /** IMAGE_CACHE_MEMORY_BYTES, default 32 MiB. */
    readonly memoryBytes: number
    /** IMAGE_CACHE_DIR, default `images/` beside the SQLite file; null (memory only) for an in-memory database. */
    readonly dir: string | null
    /** IMAGE_CACHE_MAX_BYTES: the disk tier's budget, default 512 MiB. */
    readonly diskBytes: number
    /** IMAGE_MAX_BYTES: a larger image is refused and not cached. Default 10 MiB. */
    readonly maxImageBytes: number
    /** IMAGE_CACHE_EVICTION, for both tiers. Default `w-tinylfu`. */
    readonly eviction: EvictionPolicy
  }
  readonly metrics: {
    /** METRICS_ENABLED (default true): `GET /metrics` and the per-request HTTP histogram. */
    readonly enabled: boolean
    /** METRICS_PUBLIC (default false): `/metrics` open without credentials when auth is on. */
    readonly public: boolean
  }
  readonly jobs: {
    readonly watchHistorySyncMs: number
    readonly monitorIntervalMs: number
    /** How long one service check may take before it counts as a problem. */
    readonly monitorTimeoutMs: number
    /** How many services are checked at once. */
    readonly monitorConcurrency: number
    /** A monitor round stops checking by then; services left out go first next round. */
    readonly monitorRoundDeadlineMs: number
  }
}

export interface HostPort {
  readonly host: string
  readonly port: number
}

export type { LogLevel }

const MiB = 1024 * 1024
const ms = (seconds: number) => seconds * 1000

/** A cache with its TTL variable, as the catalogue declares it (features/caches/). */
export interface CacheTtlVariable {
  readonly name: string
  readonly ttl: { readonly env: string; readonly defaultSeconds: number }
}

/**
 * Parses the environment into a frozen Config, or throws one ConfigError. `caches` name the TTL
 * variables to read (the catalogue, `CACHES`), so config depends on no feature.
 */
export function loadConfig(env: Env, caches: readonly CacheTtlVariable[]): Config {
  const e = new EnvReader(env)

  const redisUrlValue = e.read('REDIS_URL', redisUrl, null as string | null, 'url')
  const redisSentinels = e.read('REDIS_SENTINELS', hostPortList, [] as HostPort[])
  const redisClusterNodes = e.read('REDIS_CLUSTER_NODES', hostPortList, [] as HostPort[])
  const auth = {
    enabled: e.read('ENABLE_AUTH', bool, false),
    username: e.read('AUTH_USERNAME', nonEmptyText, ''),
    password: e.read('AUTH_PASSWORD', text, '', 'secret'),
  }

  const databasePath = e.read('DATABASE_PATH', nonEmptyText, 'data/komandorr.db')
  const monitorIntervalSeconds = e.read('MONITOR_INTERVAL', positiveSeconds, 30)

  const config: Config = {
    host: e.read('HOST', nonEmptyText, '0.0.0.0'),
    port: e.read('PORT', port, 8000),
    http: {
      requestTimeoutMs: ms(e.read('HTTP_REQUEST_TIMEOUT', positiveSeconds, 30)),
      headersTimeoutMs: ms(e.read('HTTP_HEADERS_TIMEOUT', positiveSeconds, 10)),
      keepAliveTimeoutMs: ms(e.read('HTTP_KEEP_ALIVE_TIMEOUT', positiveSeconds, 5)),
    },
    limits: {
      heavyQueriesPerClient: e.read('HEAVY_QUERIES_PER_CLIENT', positiveInteger(1_000), 2),
      heavyQueriesMax: e.read('HEAVY_QUERIES_MAX', positiveInteger(1_000), 4),
      login: {
        perClient: e.read('LOGIN_FAILURES_PER_CLIENT', positiveInteger(1_000_000), 10),
        windowMs: ms(e.read('LOGIN_FAILURE_WINDOW', positiveSeconds, 60)),
        perSecond: e.read('LOGIN_FAILURES_PER_SECOND', positiveInteger(1_000_000), 10),
        concurrency: e.read('LOGIN_CHECK_CONCURRENCY', positiveInteger(64), 2),
      },
    },
    frontendDir: e.read('FRONTEND_DIR', frontendDir, null as string | null),
    komandorrUrl: e.read('KOMANDORR_URL', httpUrl, null as string | null, 'url'),
    corsOrigins: e.read('CORS_ORIGINS', corsOrigins, ['http://localhost:3000']),
    logLevel: e.read('LOG_LEVEL', logLevel, 'info'),
    database: {
      path: databasePath,
      url: e.read('DATABASE_URL', postgresUrl, null as string | null, 'url'),
      poolSize: e.read('DATABASE_POOL_SIZE', positiveInteger(1000), 10),
      statementTimeoutMs: e.read('DATABASE_STATEMENT_TIMEOUT_MS', positiveInteger(3_600_000), 30_000),
    },
    auth,
    plex: {
      serverUrl: e.read('PLEX_SERVER_URL', httpUrl, null as string | null, 'url'),
      token: e.read('PLEX_SERVER_TOKEN', text, null as string | null, 'secret'),
      serverName: e.read('PLEX_SERVER_NAME', nonEmptyText, 'Plex Server'),
      plexTvUrl: e.read('PLEX_TV_URL', httpUrl, 'https://plex.tv', 'url'),
      maxResponseBytes: e.read(
        'PLEX_MAX_RESPONSE_BYTES',
        rule(
          digits.pipe(
            z
              .number()
              .int()
              .min(64 * 1024)
              .max(2 ** 31 - 1),
          ),
          'a number of bytes from 65536 up to 2147483647',
        ),
        64 * MiB,
      ),
      proxyPort: e.read('PLEX_PROXY_PORT', port, null as number | null),
    },
    redis: {
      enabled:
        e.read('REDIS_ENABLED', bool, false) ||
        redisUrlValue !== null ||
        redisClusterNodes.length > 0 ||
        redisSentinels.length > 0,
      url: redisUrlValue,
      host: e.read('REDIS_HOST', nonEmptyText, 'localhost'),
      port: e.read('REDIS_PORT', port, 6379),
      db: e.read(
        'REDIS_DB',
        rule(digits.pipe(z.number().int().min(0).max(1000)), 'a Redis database number (an integer >= 0)'),
        0,
      ),
      password: e.read('REDIS_PASSWORD', text, null as string | null, 'secret'),
      keyPrefix: e.read('REDIS_KEY_PREFIX', nonEmptyText, 'komandorr:'),
      sentinels: redisSentinels,
      sentinelName: e.read('REDIS_SENTINEL_NAME', nonEmptyText, 'mymaster'),
      clusterNodes: redisClusterNodes,
      timeoutMs: e.read('REDIS_TIMEOUT_MS', positiveInteger(60_000), 50),
      leaderLeaseMs: ms(e.read('REDIS_LEADER_LEASE', positiveSeconds, 15)),
    },
    cache: {
      ttlMs: Object.fromEntries(
        caches.map(({ name, ttl }) => [name, ms(e.read(ttl.env, positiveSeconds, ttl.defaultSeconds))]),
      ),
      maxStaleMs: ms(e.read('CACHE_MAX_STALE', nonNegativeSeconds, 3600)),
      warmThreshold: e.read('CACHE_WARM_THRESHOLD', fraction, 0.8),
      warmIdleMs: ms(e.read('CACHE_WARM_IDLE', positiveSeconds, 60)),
      softTimeoutMs: e.read(
        'CACHE_SOFT_TIMEOUT_MS',
        rule(
          digits.pipe(z.number().int().min(0).max(600_000)),
          'a number of milliseconds (an integer from 0 to 600000)',
        ),
        50,
      ),
      maxBytes: e.read('CACHE_MAX_BYTES', bytes, 64 * MiB),
      maxBytesPerScope: e.read('CACHE_MAX_BYTES_PER_SCOPE', bytes, null as number | null),
      eviction: e.read('CACHE_EVICTION', eviction, 'lru'),
    },
    images: {
      memoryBytes: e.read('IMAGE_CACHE_MEMORY_BYTES', bytes, 32 * MiB),
      dir: e.read(
        'IMAGE_CACHE_DIR',
        nonEmptyText,
        databasePath === ':memory:' ? null : path.join(path.dirname(databasePath), 'images'),
      ),
      diskBytes: e.read('IMAGE_CACHE_MAX_BYTES', bytes, 512 * MiB),
      maxImageBytes: e.read('IMAGE_MAX_BYTES', bytes, 10 * MiB),
      eviction: e.read('IMAGE_CACHE_EVICTION', eviction, 'w-tinylfu'),
    },
    metrics: {
      enabled: e.read('METRICS_ENABLED', bool, true),
      public: e.read('METRICS_PUBLIC', bool, false),
    },
    jobs: {
      watchHistorySyncMs: ms(e.read('WATCH_HISTORY_SYNC_INTERVAL', positiveSeconds, 900)),
      monitorIntervalMs: ms(monitorIntervalSeconds),
      monitorTimeoutMs: ms(e.read('MONITOR_TIMEOUT', positiveSeconds, 10)),
      monitorConcurrency: e.read('MONITOR_CONCURRENCY', positiveInteger(64), 8),
      monitorRoundDeadlineMs: ms(e.read('MONITOR_ROUND_DEADLINE', positiveSeconds, monitorIntervalSeconds)),
    },
  }

  if (auth.enabled && e.problems.length === 0 && (auth.username === '' || auth.password === '')) {
    const missing = [auth.username === '' && 'AUTH_USERNAME', auth.password === '' && 'AUTH_PASSWORD']
      .filter(Boolean)
      .join(' and ')
    e.problems.push(`ENABLE_AUTH="${e.raw('ENABLE_AUTH') ?? ''}" needs ${missing} to be set`)
  }
  // Node refuses a headers timeout longer than the request timeout.
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    e.problems.push(
      `HTTP_HEADERS_TIMEOUT="${e.raw('HTTP_HEADERS_TIMEOUT') ?? 10}" is longer than HTTP_REQUEST_TIMEOUT="${e.raw('HTTP_REQUEST_TIMEOUT') ?? 30}": it must be at most that`,
    )
  }
  if (e.problems.length > 0) throw new ConfigError(e.problems.join('; '))
  return deepFreeze(config)
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
