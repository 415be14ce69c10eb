import type { AnyCache, CacheRegistry, Clock, PatchOutcome, TimerHandle } from '../../cache/index.js'
import type { Logger } from '../../logger.js'
import {
  createNotificationListener,
  type NotificationListener,
  type PlayingNotification,
  type TimelineEntry,
} from '../../plex/index.js'
import type { PlexConnection, PlexSettings } from '../../plex/plex-connection.js'
import type { AnyCacheSpec, PlexChange, PushAction } from '../caches/declaration.js'

export interface PushInvalidationOptions {
  plex: PlexConnection
  registry: CacheRegistry
  /** The declarations whose push rules and Plex dependence say what a notification does. */
  caches: readonly AnyCacheSpec[]
  /** Events within this window cost one refresh per cache. Default 250 ms. */
  debounceMs?: number
  /** Times the debounce, the patch batches and the confirmations. */
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

/** Changes that arrive within this window are applied as one patch per cache (a flood costs 40 patches a second, not 1,000). */
export const PATCH_BATCH_MS = 25
/**
 * While the stream is up, a patched value that is read reloads once its last fetch from Plex is
 * this old all the same: for what PMS does not push (a session's transcode speed and bandwidth,
 * the user count in live stats).
 */
export const REFETCH_AFTER_MS = 120_000
/** When a read value kept current from the stream is refetched: its declaration's bound, never sooner than its TTL. */
const refetchAfter = (spec: AnyCacheSpec, cache: AnyCache): number =>
  Math.max(spec.refetchAfterSeconds !== undefined ? spec.refetchAfterSeconds * 1_000 : REFETCH_AFTER_MS, cache.ttlMs)

/** More changes than this waiting for one batch: drop them and reload instead. */
const MAX_PENDING = 10_000

/** Another consumer of the one notification stream (the PMS mirror): what it is told. */
export interface NotificationTap {
  /** Every notification as PMS sent it. */
  frame?(frame: { readonly text: string; readonly event: string | undefined }): void
  /** Every change as the caches' push rules see it, when it arrives (before any debounce). */
  change?(change: PlexChange): void
  /** The stream came back after a gap, or dropped a frame: anything may have been missed. */
  missed?(): void
}

type PatchAction = Extract<PushAction<unknown>, { kind: 'patch' }>

/** A cache the stream keeps current: one with a patch rule or a refresh rule that covers every change. */
interface LiveCache {
  readonly name: string
  readonly cache: AnyCache
  readonly refetchAfterMs: number
  /** The changes waiting for the next batch, each with the rule that applies it. */
  readonly pending: Array<{ change: PlexChange; action: PatchAction }>
}

/**
 * Past what TTLs can do: PMS pushes what changed, and each cache's declaration (`push` rules)
 * says what a change does to it:
 * - `patch`: the change carries the new facts (a player's state and position, a whole
 *   Activity): the held value is patched, with no Plex call (`Cache.patch`); changes within
 *   PATCH_BATCH_MS make one patch. A rule that cannot tell (a session the value does not hold,
 *   a stop) or a value that is not fresh makes the cache reload instead.
 * - `refresh`: reloaded at once in the background (`CacheRegistry.refresh`: readers keep the
 *   held value until the new one lands, other instances then take it from the shared layer).
 * The notifications become these changes: `playing` (every player report), `playing.state` (a
 * report with a new state: start, pause, resume, buffering, stop), `transcodeSession.start |
 * update | end`, `activity` (started, updated, ended), `timeline.library` (a `timeline` entry in
 * state 5, new media, or 9, deleted). On `reconnected` every cache `fetched` from the Plex
 * server is refreshed; on a frame that could not be read, every cache the stream keeps current.
 *
 * While the stream is up PMS would have said if anything had changed: the values of the caches it
 * keeps current (a patch rule, or a refresh rule with `everyChange`: the library counts, which
 * change only with a `timeline.library`) are confirmed every half of the shortest such TTL (their
 * age restarts, no Plex call), so they need no TTL reload. A value that is read reloads all the
 * same once its last fetch is REFETCH_AFTER_MS old (or its TTL, if longer), for the fields PMS
 * does not push; one nobody reads stays confirmed, so the first dashboard after an idle spell
 * gets a hit (and its read makes the value reload behind that hit). While the stream is down
 * nothing is confirmed: the values expire and reload on their TTLs again. Refreshes are
 * debounced, so a burst of events costs one reload per cache.
 */
export class PushInvalidation {
  readonly name = 'plex-push-invalidation'
  private readonly debounceMs: number
  private readonly pending = new Set<string>()
  private readonly sessionStates = new Map<string, string>()
  private live: LiveCache[] | undefined
  private listener: NotificationListener | undefined
  private timer: TimerHandle | undefined
  private patchTimer: TimerHandle | undefined
  private confirmTimer: TimerHandle | undefined
  private unsubscribe: (() => void) | undefined
  private running = false
  private readonly taps = new Set<NotificationTap>()

  constructor(private readonly options: PushInvalidationOptions) {
    this.debounceMs = options.debounceMs ?? 250
  }

  /** Whether a notification stream is open or being opened. */
  get listening(): boolean {
    return this.listener !== undefined
  }

  /** Whether the stream is connected: the caches it keeps current are confirmed from it. */
  get streaming(): boolean {
    return this.confirmTimer !== undefined
  }

  /** Tells `tap` of every frame and change of the stream; returns the function that stops it. */
  tap(tap: NotificationTap): () => void {
    this.taps.add(tap)
    return () => this.taps.delete(tap)
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

  /** The caches the stream keeps current (found in the registry once it has them). */
  private liveCaches(): LiveCache[] {
    this.live ??= this.options.caches
      .filter((spec) => spec.push?.some(({ action }) => action.kind === 'patch' || action.everyChange === true))
      .flatMap((spec) => {
        const cache = this.options.registry.get(spec.name)
        return cache === undefined
          ? []
          : [{ name: spec.name, cache, refetchAfterMs: refetchAfter(spec, cache), pending: [] }]
      })
    return this.live
  }

  private connect(): void {
    const settings = this.options.plex.settings
    // A second change may have connected already while the first one was closing the old stream.
    if (!this.running || settings === undefined || this.listener !== undefined) return
    const listen =
      this.options.listen ??
      ((s: PlexSettings) => createNotificationListener({ baseUrl: s.url, token: s.token, logger: this.options.logger }))
    const listener = listen(settings)
    listener.on('frame', (frame) => {
      for (const tap of this.taps) tap.frame?.(frame)
    })
    listener.on('playing', (items) => this.onPlaying(items))
    listener.on('transcodeSession', ({ event, sessions }) =>
      this.apply({ name: `transcodeSession.${event}`, sessions }),
    )
    listener.on('activity', (items) => this.apply({ name: 'activity', items }))
    listener.on('timeline', (entries) => this.onTimeline(entries))
    // Whatever changed between the values' loads and the stream's start was not pushed.
    listener.on('connected', () => {
      this.streamUp()
      this.refreshSoon(this.liveCaches().map((live) => live.name))
    })
    listener.on('disconnected', () => this.streamDown())
    listener.on('dropped', () => {
      for (const tap of this.taps) tap.missed?.()
      this.refreshSoon(this.liveCaches().map((live) => live.name))
    })
    listener.on('reconnected', () => {
      for (const tap of this.taps) tap.missed?.()
      this.sessionStates.clear()
      this.refreshSoon(this.options.caches.filter((spec) => spec.plexServer === 'fetched').map((spec) => spec.name))
    })
    this.listener = listener
    if (listener.isConnected) this.streamUp()
  }

  private async disconnect(): Promise<void> {
    const listener = this.listener
    this.listener = undefined
    this.sessionStates.clear()
    this.streamDown()
    // Changes from the old server must not reach the new server's values.
    if (this.patchTimer !== undefined) this.options.clock.clearTimer(this.patchTimer)
    this.patchTimer = undefined
    for (const live of this.live ?? []) live.pending.length = 0
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
    this.apply({ name: 'playing', items })
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
    for (const tap of this.taps) tap.change?.(change)
    for (const spec of this.options.caches) {
      for (const rule of spec.push ?? []) {
        if (!rule.on.includes(change.name)) continue
        switch (rule.action.kind) {
          case 'refresh':
            this.refreshSoon([spec.name])
            break
          case 'patch':
            this.queuePatch(spec.name, change, rule.action as PatchAction)
        }
      }
    }
  }

  private queuePatch(name: string, change: PlexChange, action: PatchAction): void {
    const live = this.liveCaches().find((candidate) => candidate.name === name)
    if (live === undefined) return
    if (live.pending.length >= MAX_PENDING) {
      live.pending.length = 0
      this.refreshSoon([name])
      return
    }
    live.pending.push({ change, action })
    this.patchTimer ??= this.options.clock.setTimer(() => this.flushPatches(), PATCH_BATCH_MS)
  }

  /** Applies the batch: one patch per cache; a cache whose changes cannot be patched reloads. */
  private flushPatches(): void {
    if (this.patchTimer !== undefined) this.options.clock.clearTimer(this.patchTimer)
    this.patchTimer = undefined
    for (const live of this.live ?? []) {
      const batch = live.pending.splice(0)
      if (batch.length === 0 || !this.running) continue
      const update = (value: unknown): unknown => {
        let next: unknown = value
        for (const { change, action } of batch) {
          next = action.apply(next, change)
          if (next === undefined) return undefined
        }
        return next
      }
      let outcome: Promise<PatchOutcome>
      try {
        outcome = live.cache.patch(update, undefined, { refetchAfterMs: live.refetchAfterMs })
      } catch (error) {
        this.options.logger?.warn({ err: error, cache: live.name }, 'Plex notification: patch failed, reloading')
        outcome = Promise.resolve('unpatchable')
      }
      void outcome.then((result) => {
        if (result !== 'patched' && result !== 'confirmed') this.refreshSoon([live.name])
      })
    }
  }

  private streamUp(): void {
    const live = this.liveCaches()
    if (this.confirmTimer !== undefined || live.length === 0) return
    const clock = this.options.clock
    const everyMs = Math.min(...live.map(({ cache }) => cache.ttlMs)) / 2
    const confirm = (): void => {
      this.confirmTimer = clock.setTimer(confirm, everyMs)
      this.flushPatches()
      for (const { name, cache, refetchAfterMs } of live) {
        if (this.pending.has(name)) continue
        void cache
          .patch((value) => value, undefined, { refetchAfterMs })
          .then((result) => {
            if (result === 'outdated') this.refreshSoon([name])
          })
      }
    }
    this.confirmTimer = clock.setTimer(confirm, everyMs)
  }

  private streamDown(): void {
    if (this.confirmTimer !== undefined) this.options.clock.clearTimer(this.confirmTimer)
    this.confirmTimer = undefined
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
