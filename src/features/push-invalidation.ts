import type { CacheRegistry, Clock, TimerHandle } from '../cache/index.js'
import type { Logger } from '../logger.js'
import {
  createNotificationListener,
  type NotificationListener,
  type PlayingNotification,
  type TimelineEntry,
  type TranscodeSessionNotification,
} from '../plex/index.js'
import type { PlexConnection, PlexSettings } from './plex-connection.js'

export interface PushInvalidationOptions {
  plex: PlexConnection
  registry: CacheRegistry
  /** Events within this window cost one refresh per cache. Default 250 ms. */
  debounceMs?: number
  /** Times the debounce. */
  clock: Clock
  logger?: Logger
  /** Opens the notification stream of a server; tests may count or replace it. */
  listen?: (settings: PlexSettings) => NotificationListener
}

const SESSIONS = 'plex_sessions'
const ACTIVITIES = 'plex_activities'
const RECENT_MEDIA = 'plex_recent_media'
const LIVE_STATS = 'plex_stats_live'

/** Timeline states: 5 an item finished processing (new media), 9 it was deleted. */
const TIMELINE_NEW = 5
const TIMELINE_DELETED = 9

// Keys of sessions that stopped without a `stopped` notification (missed while away) would
// pile up; past this many the map is simply started afresh.
const MAX_TRACKED_SESSIONS = 1_000

/**
 * Past what TTLs can do: PMS pushes what changed, and the caches it makes wrong are refreshed at
 * once (`CacheRegistry.refresh`: in the background, readers keep the held value until the new one
 * lands, other instances then take it from the shared layer), so a session that starts shows up
 * a load later, not up to a TTL later, and no reader waits for Plex.
 * - `playing` with a new state (start, pause, resume, buffering, stop): sessions and activities.
 *   The same state again is a player's progress report (every ~10 s per player) and is ignored:
 *   refreshing on those would reload sessions every few seconds per player.
 * - `transcodeSession.start` / `.end`: sessions and activities (`.update` is progress, ignored).
 * - `activity` (started, updated, ended): activities.
 * - `timeline` state 5 (new media) or 9 (deleted): recent media and live stats.
 * - `reconnected`: every `plex_*` cache, since anything may have changed meanwhile.
 * Refreshes are debounced, so a burst of events costs one reload per cache.
 */
export class PushInvalidation {
  readonly name = 'plex-push-invalidation'
  private readonly debounceMs: number
  private readonly pending = new Set<string>()
  private readonly sessionStates = new Map<string, string>()
  private listener: NotificationListener | undefined
  private timer: TimerHandle | undefined
  private unsubscribe: (() => void) | undefined
  private running = false

  constructor(private readonly options: PushInvalidationOptions) {
    this.debounceMs = options.debounceMs ?? 250
  }

  /** Whether a notification stream is open or being opened. */
  get listening(): boolean {
    return this.listener !== undefined
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.unsubscribe = this.options.plex.onChange(() => void this.reconnect())
    this.connect()
  }

  async stop(): Promise<void> {
    this.running = false
    this.unsubscribe?.()
    this.unsubscribe = undefined
    if (this.timer !== undefined) this.options.clock.clearTimer(this.timer)
    this.timer = undefined
    this.pending.clear()
    await this.disconnect()
  }

  private connect(): void {
    const settings = this.options.plex.settings
    // A second change may have connected already while the first one was closing the old stream.
    if (!this.running || settings === undefined || this.listener !== undefined) return
    const listen =
      this.options.listen ?? ((s: PlexSettings) => createNotificationListener({ baseUrl: s.url, token: s.token, logger: this.options.logger }))
    const listener = listen(settings)
    listener.on('playing', (items) => this.onPlaying(items))
    listener.on('transcodeSession', (notification) => this.onTranscode(notification))
    listener.on('activity', () => this.refreshSoon([ACTIVITIES]))
    listener.on('timeline', (entries) => this.onTimeline(entries))
    listener.on('reconnected', () => {
      this.sessionStates.clear()
      this.refreshSoon(this.options.registry.list().map((cache) => cache.name).filter((name) => name.startsWith('plex_')))
    })
    this.listener = listener
  }

  private async disconnect(): Promise<void> {
    const listener = this.listener
    this.listener = undefined
    this.sessionStates.clear()
    if (listener === undefined) return
    listener.removeAllListeners()
    await listener.close()
  }

  /** The Plex server changed: listen to the new one (or to none). */
  private async reconnect(): Promise<void> {
    await this.disconnect()
    this.connect()
  }

  private onPlaying(items: readonly PlayingNotification[]): void {
    let changed = false
    for (const { sessionKey, state } of items) {
      if (state === 'stopped') {
        this.sessionStates.delete(sessionKey)
        changed = true
      } else if (this.sessionStates.get(sessionKey) !== state) {
        if (this.sessionStates.size >= MAX_TRACKED_SESSIONS) this.sessionStates.clear()
        this.sessionStates.set(sessionKey, state)
        changed = true
      }
    }
    if (changed) this.refreshSoon([SESSIONS, ACTIVITIES])
  }

  private onTranscode(notification: TranscodeSessionNotification): void {
    if (notification.event !== 'update') this.refreshSoon([SESSIONS, ACTIVITIES])
  }

  private onTimeline(entries: readonly TimelineEntry[]): void {
    if (entries.some((entry) => entry.state === TIMELINE_NEW || entry.state === TIMELINE_DELETED)) this.refreshSoon([RECENT_MEDIA, LIVE_STATS])
  }

  private refreshSoon(names: readonly string[]): void {
    for (const name of names) this.pending.add(name)
    if (this.timer !== undefined || this.pending.size === 0) return
    this.timer = this.options.clock.setTimer(() => this.flush(), this.debounceMs)
  }

  private flush(): void {
    this.timer = undefined
    const names = [...this.pending].filter((name) => this.options.registry.get(name) !== undefined)
    this.pending.clear()
    if (!this.running || names.length === 0) return
    this.options.logger?.debug({ caches: names }, 'Plex notification: refreshing caches')
    for (const name of names) {
      this.options.registry.refresh(name).catch((error: unknown) => {
        this.options.logger?.warn({ err: error, cache: name }, 'Plex notification: refresh failed')
      })
    }
  }
}

export function createPushInvalidation(options: PushInvalidationOptions): PushInvalidation {
  return new PushInvalidation(options)
}
