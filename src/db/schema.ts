import type { Generated } from 'kysely'

/**
 * The tables as Kysely sees them, the same on SQLite and PostgreSQL. Times are unix milliseconds
 * (BIGINT on PostgreSQL, read back as numbers), except watch_history.viewed_at: Plex's unix seconds.
 */
export interface Tables {
  services: ServicesTable
  traffic_samples: TrafficSamplesTable
  plex_stats: PlexStatsTable
  settings: SettingsTable
  watch_history: WatchHistoryTable
  viewers: ViewersTable
  watch_history_days: WatchHistoryDaysTable
  watch_history_user_days: WatchHistoryUserDaysTable
  schema_migrations: SchemaMigrationsTable
}

export interface ServicesTable {
  id: string
  name: string
  url: string
  type: 'app' | 'website' | 'panel' | 'project' | 'server'
  status: Generated<'online' | 'offline' | 'problem'>
  last_check: number | null
  response_time: number | null
  description: string | null
  icon: string | null
  group: string | null
  created_at: number
}

export interface TrafficSamplesTable {
  id: Generated<number>
  service_id: string
  at: number
  bandwidth_up: number
  bandwidth_down: number
  total_up: number
  total_down: number
  max_bandwidth: number | null
  cpu_percent: number | null
  memory_percent: number | null
}

export interface PlexStatsTable {
  id: number
  peak_concurrent: number
  last_updated: number | null
}

export interface SettingsTable {
  key: string
  value: string
  updated_at: number
}

export interface WatchHistoryTable {
  id: Generated<number>
  user_id: number | null
  user_name: string | null
  type: string | null
  title: string
  grandparent_title: string | null
  parent_index: number | null
  index: number | null
  viewed_at: number
  duration: number | null
  view_offset: number | null
  progress: number | null
  view_count: number | null
  rating: number | null
  year: number | null
  thumb: string | null
  content_rating: string | null
  studio: string | null
  summary: string | null
  /** A JSON array of genre names. */
  genres: string
  rating_key: string | null
  history_key: string | null
  library_section_id: string | null
}

/** A viewer account; the password only as `scrypt$N$r$p$salt$hash`. */
export interface ViewersTable {
  username: string
  password_hash: string
  plex_account_id: number
  created_at: number
}

/** Plays per day (`floor(viewed_at / 86400)`), kept by triggers on watch_history: where a deep page starts. */
export interface WatchHistoryDaysTable {
  day: number
  plays: number
}

/** The same per user (rows without a user are only in watch_history_days). */
export interface WatchHistoryUserDaysTable {
  user_id: number
  day: number
  plays: number
}

export interface SchemaMigrationsTable {
  version: number
  name: string
  applied_at: number
}

/** Every table holding the service's data, parents before children (the order a copy inserts in). */
export const DATA_TABLES = [
  'services',
  'traffic_samples',
  'plex_stats',
  'settings',
  'watch_history',
  'viewers',
] as const
