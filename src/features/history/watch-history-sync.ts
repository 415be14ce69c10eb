import type { Clock } from '../../cache/index.js'
import type { SettingsRepo, WatchHistoryEntry, WatchHistoryRepo } from '../../db/index.js'
import type { BackgroundJob } from '../../jobs/background-job.js'
import { PeriodicJob } from '../../jobs/periodic-job.js'
import type { Logger } from '../../logger.js'
import type { HistoryRow, LibraryItem, PlexClient } from '../../plex/index.js'
import { PlexNotConfiguredError, type PlexConnection } from '../../plex/plex-connection.js'

export interface WatchHistorySyncResult {
  /** Rows stored that were not stored before. */
  readonly added: number
  /** Rows stored before whose data changed; the history of a view never changes, so 0 today. */
  readonly updated: number
}

export interface WatchHistorySyncOptions {
  readonly plex: PlexConnection
  readonly repo: WatchHistoryRepo
  /** Where the sync keeps how far it got, so that an interrupted sync is resumed, not skipped. */
  readonly settings: SettingsRepo
  /** Busts what shows the history (`watch_history`, `background_stats`) after rows were stored. */
  readonly onRowsAdded: () => Promise<void>
  /** WATCH_HISTORY_SYNC_INTERVAL. */
  readonly intervalMs: number
  readonly clock: Clock
  readonly logger?: Pick<Logger, 'info' | 'warn' | 'debug'>
  /** History rows per request, default 1000. */
  readonly pageSize?: number
}

/** Newest `viewedAt` (unix s) of the last sync that read every row down to its start. */
const WATERMARK_KEY = 'watch_history_sync.synced_through'

/**
 * Copies Plex's watch history into SQLite, incrementally: only rows viewed at or after the last
 * complete sync's newest row are read (the boundary second again, so a view logged in the same
 * second as the last one synced is not lost; the table's unique index drops what is already
 * stored). Page by page, newest first, one metadata request per 50 distinct items of a page and
 * one transaction per page. One sync at a time: a sync asked for while one runs joins it.
 */
export class WatchHistorySync implements BackgroundJob {
  readonly name = 'watch-history-sync'
  private readonly pageSize: number
  private readonly syncs: PeriodicJob<WatchHistorySyncResult>

  constructor(private readonly options: WatchHistorySyncOptions) {
    this.pageSize = options.pageSize ?? 1000
    const { logger } = options
    this.syncs = new PeriodicJob({
      clock: options.clock,
      intervalMs: options.intervalMs,
      run: (signal) => this.run(signal),
      onError: (error) => {
        if (error instanceof PlexNotConfiguredError) logger?.debug('watch history sync skipped: Plex is not configured')
        else if (this.syncs.running)
          logger?.warn({ error: messageOf(error) }, 'watch history sync failed; retrying at the next interval')
      },
    })
  }

  /** Syncs now, or joins the sync already running. Rejects with PlexNotConfiguredError without a server. */
  sync(): Promise<WatchHistorySyncResult> {
    return this.syncs.runNow()
  }

  /** Syncs now, then every interval (timed from the start of the previous sync) until stop(). */
  start(): void {
    this.syncs.start()
  }

  /** Cancels the timer, aborts a sync in flight and waits for it to settle. */
  stop(): Promise<void> {
    return this.syncs.stop()
  }

  private async run(signal: AbortSignal): Promise<WatchHistorySyncResult> {
    const { plex, repo, settings, logger } = this.options
    const client = plex.client()
    const since = await settings.get<number>(WATERMARK_KEY)
    let added = 0
    let newestSeen = since ?? null
    try {
      const userNames = await accountNames(client, signal)
      for await (const page of client.history({ since, pageSize: this.pageSize }, signal)) {
        const items = await metadataOf(client, page.rows, signal)
        const entries = page.rows.map((row) =>
          historyEntry(row, row.ratingKey === undefined ? undefined : items.get(row.ratingKey), userNames),
        )
        added += (await repo.insertBatch(entries)).added
        for (const row of page.rows) if (newestSeen === null || row.viewedAt > newestSeen) newestSeen = row.viewedAt
      }
      if (newestSeen !== null) await settings.set(WATERMARK_KEY, newestSeen, this.options.clock.wallNow())
    } finally {
      if (added > 0) await this.options.onRowsAdded()
    }
    logger?.info({ added, since: since ?? null }, `watch history synced: ${added} new ${added === 1 ? 'row' : 'rows'}`)
    return { added, updated: 0 }
  }
}

/** Account id → name; PMS's system account (id 0) has no name. */
async function accountNames(client: PlexClient, signal: AbortSignal): Promise<Map<number, string>> {
  const names = new Map<number, string>()
  for (const account of await client.accounts(signal)) if (account.name) names.set(account.id, account.name)
  return names
}

/** The full items of a page's rows, in comma-separated batches; rows of deleted items have no ratingKey. */
async function metadataOf(
  client: PlexClient,
  rows: readonly HistoryRow[],
  signal: AbortSignal,
): Promise<Map<string, LibraryItem>> {
  const keys = new Set<string>()
  for (const row of rows) if (row.ratingKey !== undefined) keys.add(row.ratingKey)
  if (keys.size === 0) return new Map()
  const items = await client.metadata([...keys], signal)
  return new Map(items.filter((item) => item.ratingKey !== undefined).map((item) => [item.ratingKey!, item]))
}

/**
 * A history row as stored. PMS logs a view once the item was watched past its "watched" mark, so
 * a row is a finished view: progress 100 and the offset at the end. Rows of deleted items keep
 * what PMS still has (title, type, time, user); the rest stays empty.
 */
export function historyEntry(
  row: HistoryRow,
  item: LibraryItem | undefined,
  userNames: ReadonlyMap<number, string>,
): WatchHistoryEntry {
  const duration = item?.duration === undefined ? null : Math.round(item.duration / 1000)
  return {
    userId: row.accountID,
    userName: userNames.get(row.accountID) ?? null,
    type: row.type,
    title: row.title,
    grandparentTitle: row.grandparentTitle ?? null,
    parentIndex: row.parentIndex ?? null,
    index: row.index ?? null,
    viewedAt: row.viewedAt,
    duration,
    viewOffset: duration,
    progress: 100,
    viewCount: 1,
    rating: item?.rating ?? null,
    year: item?.year ?? yearOf(row.originallyAvailableAt),
    // An episode is shown with its show's poster, as Komandorr did.
    thumb: (row.type === 'episode' ? row.grandparentThumb : undefined) ?? row.thumb ?? row.parentThumb ?? null,
    contentRating: item?.contentRating ?? null,
    studio: item?.studio ?? null,
    summary: item?.summary ?? null,
    genres: item?.genres ?? [],
    ratingKey: row.ratingKey ?? null,
    historyKey: row.historyKey,
    librarySectionId: row.librarySectionID === undefined ? null : String(row.librarySectionID),
  }
}

function yearOf(date: string | undefined): number | null {
  const year = date === undefined ? NaN : Number.parseInt(date.slice(0, 4), 10)
  return Number.isInteger(year) ? year : null
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
