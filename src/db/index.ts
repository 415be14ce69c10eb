import type { Db } from './database.js'
import { createPlexStatsRepo, type PlexStatsRepo } from './plex-stats-repo.js'
import { createServicesRepo, type ServicesRepo } from './services-repo.js'
import { createSettingsRepo, type SettingsRepo } from './settings-repo.js'
import { createTrafficRepo, type TrafficRepo } from './traffic-repo.js'
import { createViewersRepo, type ViewersRepo } from './viewers-repo.js'
import { createWatchHistoryRepo, type WatchHistoryRepo } from './watch-history-repo.js'

export { closeDatabase, openDatabase, type Db } from './database.js'
export type { PlexStatsRecord, PlexStatsRepo } from './plex-stats-repo.js'
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

export function createRepos(db: Db): Repos {
  return {
    services: createServicesRepo(db),
    traffic: createTrafficRepo(db),
    plexStats: createPlexStatsRepo(db),
    settings: createSettingsRepo(db),
    watchHistory: createWatchHistoryRepo(db),
    viewers: createViewersRepo(db),
  }
}
