import type { Cache, CacheRegistry, Clock, PatchOutcome, TimerHandle } from '../cache/index.js'
import type { Logger } from '../logger.js'
import {
  createNotificationListener,
  type ActivityNotification,
  type NotificationListener,
  type PlayingNotification,
  type TimelineEntry,
  type TranscodeSessionNotification,
} from '../plex/index.js'
import type { PlexConnection, PlexSettings } from './plex-connection.js'

/**
 * How a notification's content changes a cached value, as a reload at that moment would give it
 * (see `Cache.patch`); undefined means it cannot tell and the cache reloads instead.
 */
export interface LivePatches<V> {
  playing?(value: V, reports: readonly PlayingNotification[]): V | undefined
  activity?(value: V, notifications: readonly ActivityNotification[]): V | undefined
}

/** A cache kept current from the notification stream by its patch rules. */
export interface LiveCache {
  readonly name: string
  readonly ttlMs: number
  /** Patches with a batch of notifications; undefined when no rule of the cache reads them. */
  apply(playing: readonly PlayingNotification[], activity: readonly ActivityNotification[]): Promise<PatchOutcome> | undefined
  /** Confirms the held value (the stream said nothing changed). */
  confirm(): Promise<PatchOutcome>
}

export function liveCache<V>(cache: Cache<V>, patches: LivePatches<V>): LiveCache {
  return {
    name: cache.name,
    ttlMs: cache.ttlMs,
    apply(playing, activity) {
      const byPlaying = playing.length > 0 ? patches.playing : undefined
      const byActivity = activity.length > 0 ? patches.activity : undefined
      if (byPlaying === undefined && byActivity === undefined) return undefined
      const update = (value: V): V | undefined => {
        const next = byPlaying === undefined ? value : byPlaying(value, playing)
        return next === undefined || byActivity === undefined ? next : byActivity(next, activity)
      }
      return cache.patch(update, undefined, { refetchAfterMs: REFETCH_AFTER_MS })
    },
    confirm: () => cache.patch((value) => value, undefined, { refetchAfterMs: REFETCH_AFTER_MS }),
  }
}

export interface PushInvalidationOptions {
  plex: PlexConnection
  registry: CacheRegistry
  /** The caches patched from notifications (sessions, activities). */
  live?: readonly LiveCache[]
  /** Events within this window cost one refresh per cache. Default 250 ms. */
  debounceMs?: number
  /** Times the debounce, the patch batches and the confirmations. */
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

/** Notifications that arrive within this window are applied as one patch per cache (a flood costs 40 patches a second, not 1,000). */
export const PATCH_BATCH_MS = 25
/**
 * While the stream is up, a live value that is read reloads once its last fetch from Plex is
 * this old all the same: for what PMS does not push (transcode speed, bandwidth).
 */
export const REFETCH_AFTER_MS = 60_000
/** More notifications than this waiting for one batch: drop them and reload instead. */
const MAX_PENDING = 10_000

/**
 * Past what TTLs can do: PMS pushes what changed. The live caches (sessions, activities) are
 * patched from the notifications' content, with no Plex call; the others are refreshed at once
 * (`CacheRegistry.refresh`: in the background, readers keep the held value until the new one
 * lands, other instances then take it from the shared layer).
 * - `playing`: a known session's state and position patch sessions and activities; a session
 *   the cached values do not hold (it started), or `stopped`, reloads them.
 * - `activity` (started, updated, ended): inserts, replaces or removes the activity by uuid.
 * - `transcodeSession.start` / `.end`: sessions and activities reload (`.update` is progress, ignored).
 * - `timeline` state 5 (new media) or 9 (deleted): recent media and live stats reload.
 * - `reconnected`, or a frame that could not be read: events were missed, so every `plex_*`
 *   cache (for a dropped frame, the live ones) reloads.
 * While the stream is up, PMS would have said if anything had changed: the live caches' values
 * are confirmed every half TTL (their age restarts, no Plex call), so they need no TTL reload.
 * A value that is read reloads all the same once its last fetch is REFETCH_AFTER_MS old, for the
 * fields PMS does not push; one nobody reads stays confirmed, so the first dashboard after an
 * idle spell gets a hit (and that read makes it reload behind the hit). While the stream is
 * down nothing is confirmed: the values expire and reload on their TTLs again. Refreshes are
 * debounced, so a burst of events costs one reload per cache.
 */
export class PushInvalidation {
  readonly name = 'plex-push-invalidation'
  private readonly debounceMs: number
  private readonly live: readonly LiveCache[]
  private readonly pending = new Set<string>()
  private readonly pendingPlaying: PlayingNotification[] = []
  private readonly pendingActivity: ActivityNotification[] = []
  private listener: NotificationListener | undefined
  private timer: TimerHandle | undefined
  private patchTimer: TimerHandle | undefined
  private confirmTimer: TimerHandle | undefined
  private unsubscribe: (() => void) | undefined
  private running = false

  constructor(private readonly options: PushInvalidationOptions) {
    this.debounceMs = options.debounceMs ?? 250
    this.live = options.live ?? []
  }

  /** Whether a notification stream is open or being opened. */
  get listening(): boolean {
    return this.listener !== undefined
  }

  /** Whether the stream is connected: the live caches are being confirmed from it. */
  get streaming(): boolean {
    return this.confirmTimer !== undefined
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
    listener.on('playing', (items) => this.queue(this.pendingPlaying, items))
    listener.on('activity', (items) => this.queue(this.pendingActivity, items))
    listener.on('transcodeSession', (notification) => this.onTranscode(notification))
    listener.on('timeline', (entries) => this.onTimeline(entries))
    // Whatever changed between the values' loads and the stream's start was not pushed.
    listener.on('connected', () => {
      this.streamUp()
      this.refreshSoon(this.liveNames())
    })
    listener.on('disconnected', () => this.streamDown())
    listener.on('dropped', () => this.refreshSoon(this.liveNames()))
    listener.on('reconnected', () => {
      this.refreshSoon(this.options.registry.list().map((cache) => cache.name).filter((name) => name.startsWith('plex_')))
    })
    this.listener = listener
    if (listener.isConnected) this.streamUp()
  }

  private async disconnect(): Promise<void> {
    const listener = this.listener
    this.listener = undefined
    this.streamDown()
    // Events of the old server must not reach the new server's values.
    if (this.patchTimer !== undefined) this.options.clock.clearTimer(this.patchTimer)
    this.patchTimer = undefined
    this.pendingPlaying.length = 0
    this.pendingActivity.length = 0
    if (listener === undefined) return
    listener.removeAllListeners()
    await listener.close()
  }

  /** The Plex server changed: listen to the new one (or to none). */
  private async reconnect(): Promise<void> {
    await this.disconnect()
    this.connect()
  }

  private streamUp(): void {
    if (this.confirmTimer !== undefined || this.live.length === 0) return
    const clock = this.options.clock
    const everyMs = Math.min(...this.live.map((cache) => cache.ttlMs)) / 2
    const confirm = (): void => {
      this.confirmTimer = clock.setTimer(confirm, everyMs)
      this.flushPatches()
      for (const cache of this.live) {
        if (this.pending.has(cache.name)) continue
        void cache.confirm().then((result) => {
          if (result === 'outdated') this.refreshSoon([cache.name])
        })
      }
    }
    this.confirmTimer = clock.setTimer(confirm, everyMs)
  }

  private streamDown(): void {
    if (this.confirmTimer !== undefined) this.options.clock.clearTimer(this.confirmTimer)
    this.confirmTimer = undefined
  }

  private liveNames(): string[] {
    return this.live.map((cache) => cache.name)
  }

  private queue<T>(pending: T[], items: readonly T[]): void {
    if (pending.length + items.length > MAX_PENDING) {
      this.pendingPlaying.length = 0
      this.pendingActivity.length = 0
      this.refreshSoon(this.liveNames())
      return
    }
    pending.push(...items)
    this.patchTimer ??= this.options.clock.setTimer(() => this.flushPatches(), PATCH_BATCH_MS)
  }

  /** Applies the notifications of the batch, one patch per live cache; a cache that cannot be patched reloads. */
  private flushPatches(): void {
    if (this.patchTimer !== undefined) this.options.clock.clearTimer(this.patchTimer)
    this.patchTimer = undefined
    const playing = this.pendingPlaying.splice(0)
    const activity = this.pendingActivity.splice(0)
    if (!this.running || (playing.length === 0 && activity.length === 0)) return
    for (const cache of this.live) {
      let outcome: Promise<PatchOutcome> | undefined
      try {
        outcome = cache.apply(playing, activity)
      } catch (error) {
        this.options.logger?.warn({ err: error, cache: cache.name }, 'Plex notification: patch failed, reloading')
        outcome = Promise.resolve('unpatchable')
      }
      void outcome?.then((result) => {
        if (result !== 'patched' && result !== 'confirmed') this.refreshSoon([cache.name])
      })
    }
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
