import type { CacheRegistry } from './cache/index.js'
import { systemClock, type Clock } from './cache/index.js'
import type { Config } from './config.js'
import { closeDatabase, createRepos, openDatabase, type Db, type Repos } from './db/index.js'
import { createRedisLayer, soloLeadership, type RedisLayer } from './cache/redis/index.js'
import { redisHealth, redisLayerStatus } from './features/cache-management.js'
import { createCaches } from './features/caches.js'
import { createHistoryAndStats, type HistoryAndStats } from './features/history-and-stats.js'
import { initialPlexSettings, sharePlexSettings } from './features/plex-config.js'
import { PlexConnection } from './features/plex-connection.js'
import { createPlexLive, type PlexLive } from './features/plex-live.js'
import { createLogger, LogSecrets, type Logger } from './logger.js'
import type { ServiceCheck } from './services/check.js'
import { ServiceMonitor } from './services/monitor.js'
import { createTrafficLog, type TrafficLog } from './traffic/traffic-log.js'

/** Work that runs in the background while the server listens (monitor, stats, history sync). */
export interface BackgroundJob {
  readonly name: string
  start(): void
  /** Clears timers and settles in-flight work; must finish quickly (shutdown has 5 s in all). */
  stop(): Promise<void>
}

export type HealthValue = string | Readonly<Record<string, unknown>>

/** What `/api/health` reports beside the database; later layers replace these with live probes. */
export interface HealthProbes {
  redis: () => HealthValue
  plex: () => HealthValue
}

export interface RuntimeOptions {
  /** Defaults to a pino logger at config.logLevel on stdout. */
  readonly logger?: Logger
  readonly logSecrets?: LogSecrets
  /**
   * The one clock of the service: the caches' ages and timers, the background jobs' timers, and
   * (through `wallNow()`) every stored time. Tests drive time with a `ManualClock`.
   */
  readonly clock?: Clock
  /** How the monitor checks a URL (tests may count or slow it). */
  readonly serviceCheck?: ServiceCheck
}

/** The composition root: one object holding config, logger, database and background jobs. */
export interface Runtime {
  readonly config: Config
  readonly logger: Logger
  /** Add any secret learnt at run time (e.g. a Plex token set through the API): logs hide it. */
  readonly logSecrets: LogSecrets
  readonly clock: Clock
  readonly db: Db
  readonly repos: Repos
  readonly monitor: ServiceMonitor
  readonly traffic: TrafficLog
  /** Every cache of the service (SPEC §1), each declared once. */
  readonly caches: CacheRegistry
  /** The Plex server in use: saved through the API, else from PLEX_SERVER_URL/TOKEN. */
  readonly plex: PlexConnection
  /** The live Plex endpoints: their caches, the Plex settings, the image proxy, push invalidation. */
  readonly plexLive: PlexLive
  /** Watch history and its sync, the peak stats, the dashboard snapshot, cache stats/clear/warm. */
  readonly historyAndStats: HistoryAndStats
  /** The Redis layer, when REDIS_ENABLED / REDIS_URL (or Sentinel / Cluster settings). */
  readonly redis: RedisLayer | undefined
  readonly jobs: readonly BackgroundJob[]
  readonly health: HealthProbes
  addJob(job: BackgroundJob): void
  /** Runs on close(), after the jobs stopped and before the database closes, newest first. */
  onClose(cleanup: () => void | Promise<void>): void
  startJobs(): void
  stopJobs(): Promise<void>
  /** Stops the jobs, runs the cleanups, closes the database. Idempotent. */
  close(): Promise<void>
}

export function createRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  const logSecrets = options.logSecrets ?? new LogSecrets()
  for (const secret of [config.plex.token, config.auth.password, config.redis.password]) logSecrets.add(secret)
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: logSecrets })
  const clock = options.clock ?? systemClock

  const db = openDatabase(config.databasePath)
  const repos = createRepos(db)
  const monitor = new ServiceMonitor({
    services: repos.services,
    intervalMs: config.jobs.monitorIntervalMs,
    timeoutMs: config.jobs.monitorTimeoutMs,
    concurrency: config.jobs.monitorConcurrency,
    clock,
    check: options.serviceCheck,
    logger: logger.child({ job: 'service-monitor' }),
  })
  const traffic = createTrafficLog({ repo: repos.traffic, clock })
  // With Redis: the shared layer, the invalidation bus, cluster single flight and the jobs' leader lease.
  const redis = config.redis.enabled
    ? createRedisLayer(config.redis, { clock, logger: logger.child({ component: 'redis' }), leaderLeaseMs: config.redis.leaderLeaseMs })
    : undefined
  const leadership = redis?.leader ?? soloLeadership
  const caches = createCaches(config, { clock, logger: logger.child({ component: 'cache' }), shared: redis?.shared, bus: redis?.bus, coordinator: redis?.coordinator })
  redis?.publishStats(() => caches.stats())
  const plex = new PlexConnection({ plexTvUrl: config.plex.plexTvUrl }, initialPlexSettings(config, repos.settings))
  logSecrets.add(plex.settings?.token)
  const plexLive = createPlexLive({ config, registry: caches, plex, settings: repos.settings, clock, logger, logSecrets })
  const historyAndStats = createHistoryAndStats({
    config,
    registry: caches,
    plex,
    liveStats: plexLive.liveStats,
    repos,
    traffic,
    clock,
    logger,
    redisStatus: redis && (() => redisLayerStatus(redis)),
  })

  const jobs: BackgroundJob[] = [monitor, plexLive.warmStart, plexLive.push, historyAndStats.watchHistorySync, historyAndStats.dashboard]
  const cleanups: Array<() => void | Promise<void>> = []
  let jobsStarted = false
  let closing: Promise<void> | undefined
  if (redis) cleanups.push(() => redis.close())
  cleanups.push(() => caches.close(), () => plexLive.close())
  // Plex settings saved through the API reach the other instances (they re-read the shared row).
  if (redis) cleanups.push(sharePlexSettings({ config, plex, settings: repos.settings, service: plexLive.plexConfig, topics: redis.bus, logSecrets, logger }))
  // Only the leader runs the background jobs; the Redis lease moves leadership between instances.
  leadership.onChange((leading) => {
    if (!jobsStarted) return
    if (leading) for (const job of jobs) job.start()
    else void Promise.allSettled(jobs.map((job) => job.stop()))
  })

  const stopJobs = async (): Promise<void> => {
    jobsStarted = false
    const results = await Promise.allSettled(jobs.map((job) => job.stop()))
    results.forEach((result, i) => {
      if (result.status === 'rejected') logger.warn({ err: result.reason, job: jobs[i]!.name }, 'background job did not stop cleanly')
    })
  }

  return {
    config,
    logger,
    logSecrets,
    clock,
    db,
    repos,
    monitor,
    traffic,
    caches,
    plex,
    plexLive,
    historyAndStats,
    redis,
    jobs,
    health: {
      redis: () => (redis ? redisHealth(redis) : config.redis.enabled ? 'not_connected' : 'disabled'),
      plex: () => (plex.configured ? 'configured' : 'not_configured'),
    },
    addJob(job) {
      jobs.push(job)
      if (jobsStarted && leadership.isLeader) job.start()
    },
    onClose(cleanup) {
      cleanups.push(cleanup)
    },
    startJobs() {
      if (jobsStarted) return
      jobsStarted = true
      if (leadership.isLeader) for (const job of jobs) job.start()
    },
    stopJobs,
    close() {
      closing ??= (async () => {
        await stopJobs()
        for (const cleanup of [...cleanups].reverse()) {
          try {
            await cleanup()
          } catch (error) {
            logger.warn({ err: error }, 'a cleanup failed during shutdown')
          }
        }
        closeDatabase(db)
      })()
      return closing
    },
  }
}
