import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env, CACHES)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({}, CACHES)
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8000,
      corsOrigins: ['http://localhost:3000'],
      logLevel: 'info',
      database: { path: 'data/komandorr.db', url: null, poolSize: 10, statementTimeoutMs: 30_000 },
      auth: { enabled: false },
      plex: {
        serverUrl: null,
        token: null,
        serverName: 'Plex Server',
        plexTvUrl: 'https://plex.tv',
        maxResponseBytes: 64 * 1024 * 1024,
      },
      redis: {
        enabled: false,
        url: null,
        host: 'localhost',
        port: 6379,
        db: 0,
        password: null,
        keyPrefix: 'komandorr:',
      },
      cache: {
        ttlMs: {
          plex_activities: 5_000,
          plex_sessions: 10_000,
          watch_history: 300_000,
          plex_stats: 60_000,
          plex_stats_live: 30_000,
          plex_recent_media: 300_000,
          plex_libraries: 300_000,
          plex_users_count: 300_000,
          background_stats: 60_000,
        },
        maxStaleMs: 3_600_000,
        warmThreshold: 0.8,
        warmIdleMs: 60_000,
        maxBytes: 64 * 1024 * 1024,
      },
      jobs: { watchHistorySyncMs: 900_000, monitorIntervalMs: 30_000 },
    })
  })

  it('reads every variable, with TTLs in seconds turned into milliseconds', () => {
    const config = loadConfig(
      {
        HOST: '127.0.0.1',
        PORT: '9000',
        CORS_ORIGINS: 'http://localhost:5173, https://dash.example.com/',
        LOG_LEVEL: 'WARNING',
        DATABASE_PATH: ':memory:',
        ENABLE_AUTH: 'TRUE',
        AUTH_USERNAME: 'admin',
        AUTH_PASSWORD: 'pw',
        PLEX_SERVER_URL: 'http://192.168.1.10:32400/',
        PLEX_SERVER_TOKEN: 'tok',
        PLEX_SERVER_NAME: 'Basement',
        PLEX_TV_URL: 'http://127.0.0.1:4000',
        REDIS_HOST: 'redis',
        REDIS_PORT: '6380',
        REDIS_DB: '2',
        REDIS_PASSWORD: 'rpw',
        REDIS_KEY_PREFIX: 'test:',
        CACHE_ACTIVITIES_TTL: '1',
        CACHE_SESSIONS_TTL: '20',
        CACHE_WATCH_HISTORY_TTL: '3',
        CACHE_STATS_TTL: '4',
        CACHE_LIVE_STATS_TTL: '5',
        CACHE_RECENT_MEDIA_TTL: '6',
        CACHE_LIBRARY_TTL: '7',
        CACHE_USERS_COUNT_TTL: '8',
        CACHE_MAX_STALE: '0',
        CACHE_WARM_THRESHOLD: '0.5',
        CACHE_WARM_IDLE: '9',
        CACHE_MAX_BYTES: '1000',
        STATS_REFRESH_INTERVAL: '10',
        WATCH_HISTORY_SYNC_INTERVAL: '11',
        MONITOR_INTERVAL: '12',
      },
      CACHES,
    )
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 9000,
      corsOrigins: ['http://localhost:5173', 'https://dash.example.com'],
      logLevel: 'warn',
      auth: { enabled: true, username: 'admin', password: 'pw' },
      plex: {
        serverUrl: 'http://192.168.1.10:32400',
        token: 'tok',
        serverName: 'Basement',
        plexTvUrl: 'http://127.0.0.1:4000',
      },
      redis: { enabled: false, host: 'redis', port: 6380, db: 2, password: 'rpw', keyPrefix: 'test:' },
      cache: {
        ttlMs: {
          plex_activities: 1_000,
          plex_sessions: 20_000,
          watch_history: 3_000,
          plex_stats: 4_000,
          plex_stats_live: 5_000,
          plex_recent_media: 6_000,
          plex_libraries: 7_000,
          plex_users_count: 8_000,
          background_stats: 10_000,
        },
        maxStaleMs: 0,
        warmThreshold: 0.5,
        warmIdleMs: 9_000,
        maxBytes: 1000,
      },
      jobs: { watchHistorySyncMs: 11_000, monitorIntervalMs: 12_000 },
    })
  })

  it('turns Redis on with REDIS_ENABLED or a REDIS_URL', () => {
    expect(loadConfig({ REDIS_ENABLED: 'yes' }, CACHES).redis.enabled).toBe(true)
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/1' }, CACHES).redis).toMatchObject({
      enabled: true,
      url: 'redis://127.0.0.1:6379/1',
    })
  })

  it('switches to PostgreSQL with a DATABASE_URL, with its pool size and statement timeout', () => {
    const url = 'postgres://komandorr:s3cret@db.lan:5432/komandorr?sslmode=require'
    expect(
      loadConfig({ DATABASE_URL: url, DATABASE_POOL_SIZE: '4', DATABASE_STATEMENT_TIMEOUT_MS: '2500' }, CACHES)
        .database,
    ).toEqual({
      path: 'data/komandorr.db',
      url,
      poolSize: 4,
      statementTimeoutMs: 2500,
    })
    expect(errorOf({ DATABASE_URL: 'mysql://u:hunter2-secret@db/k' })).toBe(
      'DATABASE_URL="mysql://u:***@db/k" is not a postgres:// or postgresql:// URL (like postgres://komandorr:secret@db:5432/komandorr?sslmode=require)',
    )
    expect(errorOf({ DATABASE_POOL_SIZE: '0' })).toBe('DATABASE_POOL_SIZE="0" is not a positive integer up to 1000')
    expect(errorOf({ DATABASE_STATEMENT_TIMEOUT_MS: '1.5' })).toBe(
      'DATABASE_STATEMENT_TIMEOUT_MS="1.5" is not a positive integer up to 3600000',
    )
  })

  it('reads the TTL variables of the caches it is handed, and only those', () => {
    const caches = [{ name: 'alpha', ttl: { env: 'ALPHA_TTL', defaultSeconds: 9 } }]
    expect(loadConfig({ ALPHA_TTL: '7', CACHE_SESSIONS_TTL: '20' }, caches).cache.ttlMs).toEqual({ alpha: 7_000 })
    expect(loadConfig({}, caches).cache.ttlMs).toEqual({ alpha: 9_000 })
    expect(() => loadConfig({ ALPHA_TTL: 'soon' }, caches)).toThrow(
      'ALPHA_TTL="soon" is not a number of seconds (a positive integer)',
    )
  })

  it('treats a blank variable as unset', () => {
    expect(loadConfig({ PORT: '', PLEX_SERVER_URL: '  ' }, CACHES)).toMatchObject({
      port: 8000,
      plex: { serverUrl: null },
    })
  })

  it('stops on a bad value with one line naming the variable, the value and what is allowed', () => {
    expect(errorOf({ CACHE_SESSIONS_TTL: 'abc' })).toBe(
      'CACHE_SESSIONS_TTL="abc" is not a number of seconds (a positive integer)',
    )
    expect(errorOf({ CACHE_SESSIONS_TTL: '0' })).toBe(
      'CACHE_SESSIONS_TTL="0" is not a number of seconds (a positive integer)',
    )
    expect(errorOf({ PORT: '70000' })).toBe('PORT="70000" is not a TCP port (an integer from 0 to 65535)')
    expect(errorOf({ CACHE_WARM_THRESHOLD: '1.5' })).toContain(
      'CACHE_WARM_THRESHOLD="1.5" is not a number greater than 0 and at most 1',
    )
    expect(errorOf({ ENABLE_AUTH: 'maybe' })).toBe('ENABLE_AUTH="maybe" is not true or false')
    expect(errorOf({ LOG_LEVEL: 'loud' })).toContain('LOG_LEVEL="loud" is not one of fatal, error, warn, info')
    expect(errorOf({ PLEX_SERVER_URL: 'htp://x' })).toBe(
      'PLEX_SERVER_URL="htp://x" is not an http(s) URL (like http://192.168.1.10:32400)',
    )
    expect(errorOf({ CORS_ORIGINS: 'localhost:3000' })).toContain(
      'CORS_ORIGINS="localhost:3000" is not a comma-separated list of origins',
    )
    expect(errorOf({ CACHE_MAX_BYTES: '64MB' })).toBe(
      'CACHE_MAX_BYTES="64MB" is not a number of bytes (a positive integer)',
    )
    expect(errorOf({ CACHE_EVICTION: 'lfu' })).toBe('CACHE_EVICTION="lfu" is not one of lru, w-tinylfu')
    expect(errorOf({ CACHE_MAX_BYTES_PER_SCOPE: '-1' })).toBe(
      'CACHE_MAX_BYTES_PER_SCOPE="-1" is not a number of bytes (a positive integer)',
    )
    expect(loadConfig({ CACHE_MAX_BYTES_PER_SCOPE: '4096' }, CACHES).cache.maxBytesPerScope).toBe(4096)
    expect(loadConfig({}, CACHES).cache.maxBytesPerScope, 'unset: the registry takes CACHE_MAX_BYTES / 16').toBeNull()
    expect(errorOf({ IMAGE_CACHE_EVICTION: 'fifo' })).toBe('IMAGE_CACHE_EVICTION="fifo" is not one of lru, w-tinylfu')
    expect(errorOf({ IMAGE_MAX_BYTES: '0' })).toBe('IMAGE_MAX_BYTES="0" is not a number of bytes (a positive integer)')
    expect(errorOf({ PLEX_MAX_RESPONSE_BYTES: '1000' })).toBe(
      'PLEX_MAX_RESPONSE_BYTES="1000" is not a number of bytes from 65536 up to 2147483647',
    )
    expect(errorOf({ PLEX_MAX_RESPONSE_BYTES: '1e9' })).toContain(
      'PLEX_MAX_RESPONSE_BYTES="1e9" is not a number of bytes',
    )
    expect(loadConfig({ PLEX_MAX_RESPONSE_BYTES: '1048576' }, CACHES).plex.maxResponseBytes).toBe(1_048_576)
  })

  it('places the image cache beside the SQLite file, memory only for an in-memory database, with eviction per cache', () => {
    expect(loadConfig({ DATABASE_PATH: '/var/lib/k/komandorr.db' }, CACHES).images).toEqual({
      memoryBytes: 32 * 1024 * 1024,
      dir: '/var/lib/k/images',
      diskBytes: 512 * 1024 * 1024,
      maxImageBytes: 10 * 1024 * 1024,
      eviction: 'w-tinylfu',
    })
    expect(loadConfig({ DATABASE_PATH: ':memory:' }, CACHES).images.dir).toBeNull()
    const set = loadConfig(
      {
        DATABASE_PATH: ':memory:',
        IMAGE_CACHE_DIR: '/cache/posters',
        IMAGE_CACHE_MEMORY_BYTES: '1000',
        IMAGE_CACHE_MAX_BYTES: '2000',
        IMAGE_MAX_BYTES: '3000',
        IMAGE_CACHE_EVICTION: 'LRU',
        CACHE_EVICTION: 'w-tinylfu',
      },
      CACHES,
    )
    expect(set.images).toEqual({
      memoryBytes: 1000,
      dir: '/cache/posters',
      diskBytes: 2000,
      maxImageBytes: 3000,
      eviction: 'lru',
    })
    expect(set.cache.eviction).toBe('w-tinylfu')
    expect(loadConfig({}, CACHES).cache.eviction).toBe('lru')
  })

  it('reports several bad values on the same single line', () => {
    const message = errorOf({ PORT: 'x', MONITOR_INTERVAL: '-5' })
    expect(message).not.toContain('\n')
    expect(message).toContain('PORT="x"')
    expect(message).toContain('MONITOR_INTERVAL="-5"')
  })

  it('never echoes a secret inside a rejected URL', () => {
    const redis = errorOf({ REDIS_URL: 'http://default:hunter2-secret@redis:6379' })
    expect(redis).toBe('REDIS_URL="http://default:***@redis:6379" is not a redis:// or rediss:// URL')
    const plex = errorOf({ PLEX_SERVER_URL: 'ftp://plex:32400/?X-Plex-Token=abcdef123' })
    expect(plex).not.toContain('abcdef123')
    expect(plex).toContain('X-Plex-Token=***')
  })

  it('refuses auth switched on without a username and password', () => {
    expect(errorOf({ ENABLE_AUTH: 'true' })).toBe('ENABLE_AUTH="true" needs AUTH_USERNAME and AUTH_PASSWORD to be set')
    expect(errorOf({ ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin' })).toBe(
      'ENABLE_AUTH="true" needs AUTH_PASSWORD to be set',
    )
  })

  it('returns a frozen config', () => {
    const config = loadConfig({}, CACHES)
    expect(() => {
      ;(config as { port: number }).port = 1
    }).toThrow(TypeError)
    expect(() => {
      ;(config.cache.ttlMs as { sessions: number }).sessions = 1
    }).toThrow(TypeError)
  })
})
