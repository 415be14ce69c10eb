import type { DbSource } from './connection.js'
import { createPlexStatsRepo, type PlexStatsRepo } from './plex-stats-repo.js'
import { createServicesRepo, type ServicesRepo } from './services-repo.js'
import { createSettingsRepo, type SettingsRepo } from './settings-repo.js'
import { createTrafficRepo, type TrafficRepo } from './traffic-repo.js'
import { createViewersRepo, type ViewersRepo } from './viewers-repo.js'
import { createWatchHistoryRepo, type WatchHistoryRepo } from './watch-history-repo.js'

export { DatabaseConnection, type DatabaseState, type DbSource } from './connection.js'
export {
  createDatabase,
  openPostgres,
  openSqlite,
  passwordsOf,
  withoutPassword,
  type Database,
  type DatabaseSettings,
  type Engine,
} from './database.js'
export { DatabaseUnavailableError, isDatabaseUnavailable } from './errors.js'
export { migrate, migrations } from './migrations.js'
export type { PlexStatsRecord, PlexStatsRepo } from './plex-stats-repo.js'
export type { Tables } from './schema.js'
export type { ServicesRepo } from './services-repo.js'
export type { SettingsRepo } from './settings-repo.js'
export type { TrafficRepo, TrafficSample } from './traffic-repo.js'
export type { StoredViewer, ViewersRepo } from './viewers-repo.js'
export type { WatchHistoryEntry, WatchHistoryQuery, WatchHistoryRepo } from './watch-history-repo.js'

export interface Repos {
  readonly services: ServicesRepo
  readonly traffic: TrafficRepo
  readonly plexStats: PlexStatsRepo
  readonly settings: SettingsRepo
  readonly watchHistory: WatchHistoryRepo
  readonly viewers: ViewersRepo
}

/** Every repository over one database; each call is async and works the same on SQLite and PostgreSQL. */
export function createRepos(source: DbSource): Repos {
  return {
    services: createServicesRepo(source),
    traffic: createTrafficRepo(source),
    plexStats: createPlexStatsRepo(source),
    settings: createSettingsRepo(source),
    watchHistory: createWatchHistoryRepo(source),
    viewers: createViewersRepo(source),
  }
}
