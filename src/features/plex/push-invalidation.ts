import type { CacheRegistry, Clock, TimerHandle } from '../../cache/index.js'
import type { Logger } from '../../logger.js'
import { createNotificationListener, type NotificationListener, type PlayingNotification, type TimelineEntry } from '../../plex/index.js'
import type { PlexConnection, PlexSettings } from '../../plex/plex-connection.js'
import type { AnyCacheSpec, PlexChange } from '../caches/declaration.js'

export interface PushInvalidationOptions {
  plex: PlexConnection
  registry: CacheRegistry
  /** The declarations whose push rules and Plex dependence say what a notification does. */
  caches: readonly AnyCacheSpec[]
  /** Events within this window cost one refresh per cache. Default 250 ms. */
  debounceMs?: number
  /** Times the debounce. */
  clock: Clock
  logger?: Logger
  /** Opens the notification stream of a server; tests may count or replace it. */
  listen?: (settings: PlexSettings) => NotificationListener
}

/** Timeline states: 5 an item finished processing (new media), 9 it was deleted. */
const TIMELINE_NEW = 5
const TIMELINE_DELETED = 9

// Keys of sessions that stopped without a `stopped` notification (missed while away) would
// pile up; past this many the map is simply started afresh.
const MAX_TRACKED_SESSIONS = 1_000

/**
 * Past what TTLs can do: PMS pushes what changed, and the caches whose declarations name that
 * change (`push` rules) are refreshed at once (`CacheRegistry.refresh`: in the background,
 * readers keep the held value until the new one lands, other instances then take it from the
 * shared layer), so a session that starts shows up a load later, not up to a TTL later, and no
 * reader waits for Plex. The notifications become these changes:
 * - `playing.state`: a `playing` notification with a new state (start, pause, resume, buffering,
 *   stop). The same state again is a player's progress report (every ~10 s per player) and is
 *   ignored: refreshing on those would reload sessions every few seconds per player.
 * - `transcodeSession.start | update | end`, `activity` (started, updated, ended).
 * - `timeline.library`: a `timeline` entry in state 5 (new media) or 9 (deleted).
 * On `reconnected` every cache `fetched` from the Plex server is refreshed, since anything may
 * have changed meanwhile. Refreshes are debounced, so a burst of events costs one reload per cache.
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
    listener.on('transcodeSession', ({ event, sessions }) => this.apply({ name: `transcodeSession.${event}`, sessions }))
    listener.on('activity', (items) => this.apply({ name: 'activity', items }))
    listener.on('timeline', (entries) => this.onTimeline(entries))
    listener.on('reconnected', () => {
      this.sessionStates.clear()
      this.refreshSoon(this.options.caches.filter((spec) => spec.plexServer === 'fetched').map((spec) => spec.name))
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
    const changed = items.filter(({ sessionKey, state }) => {
      if (state === 'stopped') {
        this.sessionStates.delete(sessionKey)
        return true
      }
      if (this.sessionStates.get(sessionKey) === state) return false
      if (this.sessionStates.size >= MAX_TRACKED_SESSIONS) this.sessionStates.clear()
      this.sessionStates.set(sessionKey, state)
      return true
    })
    if (changed.length > 0) this.apply({ name: 'playing.state', items: changed })
  }

  private onTimeline(entries: readonly TimelineEntry[]): void {
    const library = entries.filter((entry) => entry.state === TIMELINE_NEW || entry.state === TIMELINE_DELETED)
    if (library.length > 0) this.apply({ name: 'timeline.library', entries: library })
  }

  /** Carries out the rules of every cache that names `change`. */
  private apply(change: PlexChange): void {
    for (const spec of this.options.caches) {
      for (const rule of spec.push ?? []) {
        if (!rule.on.includes(change.name)) continue
        switch (rule.action.kind) {
          case 'refresh':
            this.refreshSoon([spec.name])
        }
      }
    }
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
