import { systemClock, type CacheRegistry, type Clock } from './cache/index.js'
import { createRedisLayer, soloLeadership, type RedisLayer } from './cache/redis/index.js'
import { redisHealth, redisLayerStatus } from './cache/redis/status.js'
import type { Config } from './config.js'
import { createDatabase, createRepos, DatabaseConnection, passwordsOf, type Repos } from './db/index.js'
import { dashboardStatsCache } from './features/caches/dashboard-stats.js'
import type { CacheDeps } from './features/caches/declaration.js'
import { CACHES, ServiceCaches } from './features/caches/index.js'
import { liveStatsCache } from './features/caches/live-stats.js'
import { sessionsCache } from './features/caches/sessions.js'
import { watchHistoryCache } from './features/caches/watch-history.js'
import { HistoryPages } from './features/history/history-pages.js'
import { WatchHistorySync } from './features/history/watch-history-sync.js'
import { ImageProxy } from './features/plex/image-proxy.js'
import { PlexImages } from './features/plex/plex-images.js'
import {
  clearCachesOnPlexChange,
  initialPlexSettings,
  PlexConfigService,
  reloadPlexSettings,
  sharePlexSettings,
} from './features/plex/plex-config.js'
import { PushInvalidation } from './features/plex/push-invalidation.js'
import { PmsMirror } from './features/mirror/pms-mirror.js'
import { WarmStart } from './features/plex/warm-start.js'
import { komandorrDashboardSources } from './features/komandorr-upstream/dashboard-sources.js'
import { KomandorrUpstream } from './features/komandorr-upstream/index.js'
import { CacheManagement } from './features/stats/cache-management.js'
import { DashboardStats } from './features/stats/dashboard-stats.js'
import { PlexPeak } from './features/stats/plex-peak.js'
import type { BackgroundJob } from './jobs/background-job.js'
import { createLogger, LogSecrets, type Logger } from './logger.js'
import { PlexConnection } from './plex/plex-connection.js'
import { DatabaseReadiness, WarmUpReadiness, type HealthProbes } from './readiness.js'
import type { ServiceCheck } from './features/monitored-services/check.js'
import { ServiceMonitor } from './features/monitored-services/monitor.js'
import { CacheHistory } from './metrics/cache-history.js'
import { ServiceMetrics } from './metrics/index.js'
import { createTrafficLog, type TrafficLog } from './features/traffic/traffic-log.js'
import { ViewerAccounts } from './features/viewers/accounts.js'

/** A readiness probe's ping past this counts as the database not answering (probes time out at 1-5 s). */
const READINESS_PING_DEADLINE_MS = 2_000

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
  /** Between two samples of the `/cache` page's plots. Default 5 s. */
  readonly cacheHistoryIntervalMs?: number
}

/** The composition root: one object holding config, logger, database and background jobs. */
export interface Runtime {
  readonly config: Config
  readonly logger: Logger
  /** Add any secret learnt at run time (e.g. a Plex token set through the API): logs hide it. */
  readonly logSecrets: LogSecrets
  readonly clock: Clock
  /** SQLite or PostgreSQL, migrated; on PostgreSQL possibly still being reached (see its state). */
  readonly database: DatabaseConnection
  readonly repos: Repos
  readonly monitor: ServiceMonitor
  readonly traffic: TrafficLog
  /** The registry holding every cache of the catalogue (features/caches/). */
  readonly caches: CacheRegistry
  /** What the caches' loaders and routes use, `cache(spec)` among it. */
  readonly cacheDeps: CacheDeps
  /** The Plex server in use: saved through the API, else from PLEX_SERVER_URL/TOKEN. */
  readonly plex: PlexConnection
  /** Reads, checks and saves the Plex server (`/api/plex/config`, `/api/plex/validate`). */
  readonly plexConfig: PlexConfigService
  readonly images: ImageProxy
  /** `plex_images`: the image proxy's cache (memory and disk), listed in the registry. */
  readonly plexImages: PlexImages
  /** A background job: Plex notifications patch or refresh the caches they make wrong. */
  readonly push: PushInvalidation
  /** The PMS mirror when PLEX_PROXY_PORT is set (`listen` it on that port); undefined otherwise. */
  readonly mirror: PmsMirror | undefined
  /** A background job: loads the Plex caches when the server starts listening and after a Plex server change. */
  readonly warmStart: WarmStart
  /** A background job: syncs the watch history every WATCH_HISTORY_SYNC_INTERVAL. */
  readonly watchHistorySync: WatchHistorySync
  /** A background job: recomputes `background_stats` every STATS_REFRESH_INTERVAL. */
  readonly dashboard: DashboardStats
  readonly plexPeak: PlexPeak
  /** `cache/stats`, `cache/clear`, `cache/warm`. */
  readonly cacheManagement: CacheManagement
  /** The viewer accounts beside the admin (`/api/viewers`), and their sign-in. */
  readonly viewers: ViewerAccounts
  /** The Redis layer, when REDIS_ENABLED / REDIS_URL (or Sentinel / Cluster settings). */
  readonly redis: RedisLayer | undefined
  /** What `GET /metrics` exports; undefined with METRICS_ENABLED=false. */
  readonly metrics: ServiceMetrics | undefined
  /** In front of Komandorr (KOMANDORR_URL): its cached GETs, its verdicts on callers; undefined standalone. */
  readonly komandorr: KomandorrUpstream | undefined
  /** The last 15 minutes of every cache's counters, for the `/cache` page (sampled on every instance). */
  readonly cacheHistory: CacheHistory
  readonly jobs: readonly BackgroundJob[]
  readonly health: HealthProbes
  startJobs(): void
  stopJobs(): Promise<void>
  /** Stops the jobs, runs the cleanups, closes the database. Idempotent. */
  close(): Promise<void>
}

/**
 * Builds the service. SQLite is opened and migrated before this resolves (a file that cannot be
 * opened stops start-up); PostgreSQL is tried once, and while it is out of reach the runtime
 * comes up without it and keeps retrying in the background.
 */
export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const logSecrets = options.logSecrets ?? new LogSecrets()
  for (const secret of [
    config.plex.token,
    config.auth.password,
    config.redis.password,
    ...passwordsOf(config.database.url),
  ])
    logSecrets.add(secret)
  const logger = options.logger ?? createLogger({ level: config.logLevel, secrets: logSecrets })
  const clock = options.clock ?? systemClock

  const databaseLogger = logger.child({ component: 'database' })
  const databaseReadiness = new DatabaseReadiness((): Promise<void> => database.ping(), {
    clock,
    ms: READINESS_PING_DEADLINE_MS,
  })
  const database = new DatabaseConnection({
    database: createDatabase(config.database, (error) =>
      databaseLogger.warn(
        { err: error },
        'a PostgreSQL connection was lost; the pool opens a new one on the next query',
      ),
    ),
    clock,
    logger: databaseLogger,
    readiness: databaseReadiness,
  })
  try {
    await database.start()
  } catch (error) {
    await database.close().catch(() => undefined)
    throw error
  }
  const repos = createRepos(database)
  const monitor = new ServiceMonitor({
    services: repos.services,
    intervalMs: config.jobs.monitorIntervalMs,
    timeoutMs: config.jobs.monitorTimeoutMs,
    concurrency: config.jobs.monitorConcurrency,
    roundDeadlineMs: config.jobs.monitorRoundDeadlineMs,
    clock,
    check: options.serviceCheck,
    logger: logger.child({ job: 'service-monitor' }),
  })
  const traffic = createTrafficLog({ repo: repos.traffic, clock })
  // With Redis: the shared layer, the invalidation bus, cluster single flight and the jobs' leader lease.
  const redis = config.redis.enabled
    ? createRedisLayer(config.redis, {
        clock,
        logger: logger.child({ component: 'redis' }),
        leaderLeaseMs: config.redis.leaderLeaseMs,
      })
    : undefined
  const leadership = redis?.leader ?? soloLeadership
  const metrics = config.metrics.enabled ? new ServiceMetrics() : undefined
  const serviceCaches = new ServiceCaches(config.cache, config.cache.ttlMs, {
    clock,
    logger: logger.child({ component: 'cache' }),
    shared: redis?.shared,
    bus: redis?.bus,
    coordinator: redis?.coordinator,
    onLoad: metrics?.observeLoad,
  })
  const caches = serviceCaches.registry
  const komandorr =
    config.komandorrUrl === null ? undefined : new KomandorrUpstream(config.komandorrUrl, caches, metrics?.registry)
  redis?.publishStats(() => caches.stats())
  const plex = new PlexConnection(
    {
      plexTvUrl: config.plex.plexTvUrl,
      maxResponseBytes: config.plex.maxResponseBytes,
      observe: metrics?.plex.observe,
    },
    await initialPlexSettings(config, database.state === 'ready' ? repos.settings : undefined),
  )
  logSecrets.add(plex.settings?.token)
  const cache = serviceCaches.cache
  const dashboard = new DashboardStats({
    caches: cache,
    ...(komandorr === undefined ? { services: repos.services, traffic } : komandorrDashboardSources(komandorr, clock)),
    plexStats: repos.plexStats,
    plex,
    intervalMs: config.cache.ttlMs[dashboardStatsCache.name]!,
    idleWindowMs: config.cache.warmIdleMs,
    clock,
    logger: logger.child({ job: 'dashboard-stats' }),
  })
  const serverName = () => plex.settings?.serverName || config.plex.serverName
  const historyPages = new HistoryPages({ source: database, repo: repos.watchHistory, settings: config.database })
  const cacheDeps = serviceCaches.define({ plex, repos, historyPages, logger, serverName, dashboard })
  const plexConfig = new PlexConfigService({
    plex,
    settings: repos.settings,
    clock,
    defaultServerName: config.plex.serverName,
    logSecrets,
    logger: logger.child({ component: 'plex-config' }),
  })
  const push = new PushInvalidation({
    plex,
    registry: caches,
    caches: CACHES,
    clock,
    logger: logger.child({ job: 'plex-push-invalidation' }),
  })
  const watchHistorySync = new WatchHistorySync({
    plex,
    repo: repos.watchHistory,
    settings: repos.settings,
    onRowsAdded: async () => {
      await Promise.all([cache(watchHistoryCache).clear(), cache(dashboardStatsCache).invalidate()])
    },
    intervalMs: config.jobs.watchHistorySyncMs,
    clock,
    logger: logger.child({ job: 'watch-history-sync' }),
  })
  const viewers = new ViewerAccounts({ repo: repos.viewers, registry: caches, clock, auth: config.auth })
  const cacheHistory = new CacheHistory({
    clock,
    caches: () => caches.list(),
    redisInUse: redis && (() => (redis.breaker.closed ? 1 : 0)),
    intervalMs: options.cacheHistoryIntervalMs,
  })
  cacheHistory.start()
  const cacheManagement = new CacheManagement({
    registry: caches,
    config,
    backgroundStats: dashboard,
    clock,
    redisStatus: redis && (() => redisLayerStatus(redis)),
    viewers,
    history: cacheHistory,
  })

  const plexCaches = CACHES.filter((spec) => spec.plexServer === 'fetched').map((spec) => cache(spec))
  const warmStartLogger = logger.child({ job: 'cache-warm-start' })
  const warmStart = new WarmStart({ plex, caches: plexCaches, clock, logger: warmStartLogger })
  // Every load of the warm-up fails by its cache's hard timeout: readiness waits no longer.
  const warmUpReadiness = new WarmUpReadiness({
    firstWarmUp: () => warmStart.firstWarmUp,
    clock,
    boundMs: Math.max(...plexCaches.map((plexCache) => plexCache.policy.loadTimeoutMs)),
    logger: warmStartLogger,
  })

  metrics?.watch({ caches, redis, plex, sessions: cache(sessionsCache), liveStats: cache(liveStatsCache) })

  // In front of Komandorr the services are Komandorr's, and so is their monitor.
  const jobs: BackgroundJob[] = [
    ...(komandorr === undefined ? [monitor] : []),
    warmStart,
    push,
    watchHistorySync,
    dashboard,
  ]
  const cleanups: Array<() => void | Promise<void>> = []
  const images = new ImageProxy({ plex, plexTvUrl: config.plex.plexTvUrl })
  const plexImages = new PlexImages(images, {
    config,
    registry: caches,
    clock,
    logger: logger.child({ cache: 'plex_images' }),
  })
  const mirror =
    config.plex.proxyPort === null
      ? undefined
      : new PmsMirror({
          plex,
          cache,
          images: plexImages,
          notifications: push,
          logger: logger.child({ component: 'pms-mirror' }),
          metrics: metrics?.registry,
        })
  let jobsStarted = false
  let closing: Promise<void> | undefined
  // A database reached after start may hold a Plex server saved through the API: it wins.
  if (database.state !== 'ready') {
    cleanups.push(
      database.onReady(() => {
        reloadPlexSettings({ config, settings: repos.settings, plex, logSecrets }).catch((error: unknown) =>
          logger.warn({ err: error }, 'the saved Plex settings could not be read; keeping the configured server'),
        )
      }),
    )
  }
  if (redis) cleanups.push(() => redis.close())
  cleanups.push(
    () => caches.close(),
    () => mirror?.close(),
    clearCachesOnPlexChange(plex, serviceCaches.plexDependent(), logger),
    () => cacheHistory.stop(),
    () => plexImages.cache.settled(),
    () => historyPages.close(),
  )
  // Plex settings saved through the API reach the other instances (they re-read the shared row).
  if (redis)
    cleanups.push(
      sharePlexSettings({
        config,
        plex,
        settings: repos.settings,
        service: plexConfig,
        topics: redis.bus,
        logSecrets,
        logger,
      }),
    )
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
      if (result.status === 'rejected')
        logger.warn({ err: result.reason, job: jobs[i]!.name }, 'background job did not stop cleanly')
    })
  }

  return {
    config,
    logger,
    logSecrets,
    clock,
    database,
    repos,
    monitor,
    traffic,
    caches,
    cacheDeps,
    plex,
    plexConfig,
    images,
    plexImages,
    push,
    mirror,
    warmStart,
    watchHistorySync,
    dashboard,
    plexPeak: new PlexPeak({ repo: repos.plexStats, clock, caches: cache }),
    cacheManagement,
    viewers,
    redis,
    metrics,
    komandorr,
    cacheHistory,
    jobs,
    health: {
      redis: () => (redis ? redisHealth(redis) : config.redis.enabled ? 'not_connected' : 'disabled'),
      plex: () => (plex.configured ? 'configured' : 'not_configured'),
      database: databaseReadiness,
      warmUp: warmUpReadiness,
    },
    startJobs() {
      if (jobsStarted) return
      jobsStarted = true
      if (leadership.isLeader) for (const job of jobs) job.start()
      warmUpReadiness.jobsStarted(leadership.decided)
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
        await database.close()
      })()
      return closing
    },
  }
}
