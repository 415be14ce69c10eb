import { addMovie, SECTION_IDS } from '../library/generate.js'
import { hasSecondVersion } from '../library/render.js'
import { TYPE, TYPE_NAME } from '../library/types.js'
import { alnumString, intBetween, mulberry32, pickWeighted, uuidFrom, type Rng } from '../random.js'
import type {
  ActivityType,
  AddMediaOptions,
  MediaInfo,
  SessionKind,
  StartActivityOptions,
  StartSessionOptions,
} from '../types.js'
import type { World } from '../world.js'
import { ACTIVITY_TITLES, activityNotification, type Activity } from './activities.js'
import {
  offLibraryGuid,
  playingNotification,
  transcodeNotification,
  type OffLibraryItem,
  type Session,
} from './sessions.js'

/** Players report about every 10 s; the live state moves in ticks of that size. */
export const TICK_SECONDS = 10

export interface Notification {
  /** NotificationContainer `type`. */
  type: string
  /** Array key in the container, e.g. `PlaySessionStateNotification`; absent for ping. */
  key?: string
  entry?: Record<string, unknown>
}

export interface NotificationSink {
  publish(n: Notification): void
  /** False when nobody listens, so ticks skip building notifications. */
  hasListeners(): boolean
}

const AUTO_KINDS: readonly (readonly [SessionKind, number])[] = [
  ['episode', 45],
  ['movie', 25],
  ['track', 12],
  ['photo', 3],
  ['livetv', 6],
  ['preroll', 6],
  ['unknown', 3],
]

const AUTO_ACTIVITIES: readonly (readonly [ActivityType, number])[] = [
  ['library.update.section', 40],
  ['library.refresh.items', 25],
  ['media.generate.bif', 20],
  ['media.generate.intros', 10],
  ['provider.epg.load', 5],
]

/**
 * Sessions, activities and new media on the simulated clock. Everything random comes
 * from one PRNG consumed in tick order, so a run with speed 0 and the same advance()
 * calls is repeatable; every change is published as a notification as it happens.
 */
export class LiveState {
  readonly sessions: Session[] = []
  readonly activities: Activity[] = []
  sessionsVersion = 0
  activitiesVersion = 0
  private lastTick: number
  private nextSessionKey = 1
  private nextPlayQueueItem = 1
  private offLibraryCounter = 0
  private readonly rng: Rng

  constructor(
    private readonly world: World,
    private readonly auto: boolean,
    private readonly sink: NotificationSink,
  ) {
    this.rng = mulberry32(world.opts.seed ^ 0x11fe)
    this.lastTick = Math.floor(world.clock.now() / TICK_SECONDS) * TICK_SECONDS
    if (auto) this.seedInitialState()
  }

  /** Brings the state up to the clock, one tick per 10 simulated seconds. */
  sync(): void {
    const now = this.world.clock.now()
    while (this.lastTick + TICK_SECONDS <= now) {
      this.lastTick += TICK_SECONDS
      this.tick(this.lastTick)
    }
  }

  now(): number {
    return Math.floor(this.world.clock.now())
  }

  startSession(opts: StartSessionOptions = {}): Session {
    const lib = this.world.library
    const rng = this.rng
    let row = -1
    let kind: SessionKind = opts.kind ?? pickWeighted(AUTO_KINDS, rng())
    if (opts.ratingKey !== undefined) {
      row = lib.rowOf(opts.ratingKey)
      if (!lib.exists(row)) throw new Error(`startSession: ratingKey ${opts.ratingKey} is not a live library item`)
      const t = lib.type[row]
      if (t === TYPE.movie) kind = 'movie'
      else if (t === TYPE.episode) kind = 'episode'
      else if (t === TYPE.track) kind = 'track'
      else if (t === TYPE.photo) kind = 'photo'
      else throw new Error(`startSession: ratingKey ${opts.ratingKey} is a ${TYPE_NAME[t!]}, not something one plays`)
    } else if (kind === 'movie' || kind === 'episode' || kind === 'track' || kind === 'photo') {
      row = this.randomPlayable(kind)
      // A tiny library may lack this kind: play live TV instead, like a server without it.
      if (row < 0) kind = 'livetv'
    }
    const accounts = this.world.people.accounts
    const account =
      opts.accountId !== undefined
        ? accounts.find((a) => a.id === opts.accountId)
        : accounts[1 + Math.floor(rng() * (accounts.length - 1))]
    if (!account || account.id === 0)
      throw new Error(`startSession: accountId ${opts.accountId} is not a user of this server (see /accounts)`)
    const devices = this.world.people.devices.filter((d) => d.music === (kind === 'track'))
    const device = devices[Math.floor(rng() * devices.length)]!
    const offLibrary = row < 0 ? this.offLibraryItem(kind) : null
    const duration = row >= 0 ? lib.duration[row]! : offLibrary!.duration
    const isVideo = kind !== 'track' && kind !== 'photo'
    const transcodes = opts.transcode ?? (kind === 'photo' ? false : rng() < (isVideo ? 0.4 : 0.1))
    const mediaVersions =
      row >= 0 && (opts.multipleMedia ?? hasSecondVersion(lib, row)) && kind !== 'track' && kind !== 'photo' ? 2 : 1
    const now = this.world.clock.now()
    const location = opts.location ?? (device.local ? 'lan' : 'wan')
    const session: Session = {
      sessionKey: String(this.nextSessionKey++),
      kind,
      row,
      offLibrary,
      account,
      device,
      state: opts.paused ? 'paused' : 'playing',
      viewOffset: Math.min(opts.viewOffset ?? 0, Math.max(0, duration - 1)),
      duration,
      startedAt: now,
      pausedAt: opts.paused ? now : null,
      endsAt: kind === 'photo' ? now + intBetween(rng(), 30, 180) : null,
      transcode: transcodes
        ? {
            key: `/transcode/sessions/${alnumString(rng, 24)}`,
            videoDecision: isVideo && rng() < 0.7 ? 'transcode' : 'copy',
            audioDecision: rng() < 0.6 ? 'transcode' : 'copy',
            speed: Math.round((1 + rng() * 20) * 10) / 10,
            progress: 0,
            throttled: false,
            hw: rng() < 0.5,
            width: 1280,
            height: 720,
          }
        : null,
      mediaVersions,
      selectedVersion: mediaVersions === 2 ? (rng() < 0.5 ? 0 : 1) : 0,
      location,
      bandwidth: 0,
      sessionId: alnumString(rng, 24),
      playQueueItemID: this.nextPlayQueueItem++,
    }
    if (session.transcode && session.transcode.videoDecision === 'copy' && isVideo)
      session.transcode.audioDecision = 'transcode'
    session.bandwidth =
      kind === 'track' ? 1050 : session.transcode ? intBetween(rng(), 2000, 8000) : intBetween(rng(), 4000, 40_000)
    this.sessions.push(session)
    this.sessionsVersion++
    if (session.transcode)
      this.notify('transcodeSession.start', 'TranscodeSession', () => transcodeNotification(this.world, session))
    this.notify('playing', 'PlaySessionStateNotification', () =>
      playingNotification(this.world, session, session.state),
    )
    return session
  }

  stopSession(sessionKey: string): boolean {
    const s = this.sessions.find((x) => x.sessionKey === sessionKey)
    if (!s) return false
    this.stop(s, this.world.clock.now())
    return true
  }

  setPaused(sessionKey: string, paused: boolean): boolean {
    const s = this.sessions.find((x) => x.sessionKey === sessionKey)
    if (!s) return false
    s.state = paused ? 'paused' : 'playing'
    s.pausedAt = paused ? this.world.clock.now() : null
    this.sessionsVersion++
    this.notify('playing', 'PlaySessionStateNotification', () => playingNotification(this.world, s, s.state))
    return true
  }

  /** A player seeking: the position jumps (clamped to the duration) and the player reports it. */
  seek(sessionKey: string, viewOffsetMs: number): boolean {
    const s = this.sessions.find((x) => x.sessionKey === sessionKey)
    if (!s) return false
    s.viewOffset = Math.max(0, Math.min(s.duration, Math.round(viewOffsetMs)))
    this.sessionsVersion++
    this.notify('playing', 'PlaySessionStateNotification', () => playingNotification(this.world, s, s.state))
    return true
  }

  startActivity(opts: StartActivityOptions = {}): Activity {
    const rng = this.rng
    const lib = this.world.library
    const type = opts.type ?? pickWeighted(AUTO_ACTIVITIES, rng())
    const sections = lib.sections
    let sectionId: number | null = opts.librarySectionID ?? sections[Math.floor(rng() * sections.length)]!.id
    if (type === 'provider.epg.load') sectionId = opts.librarySectionID ?? null
    const section = sectionId !== null ? lib.sectionById(sectionId) : undefined
    if (sectionId !== null && !section)
      throw new Error(
        `startActivity: librarySectionID ${sectionId} does not exist (sections: ${sections.map((s) => s.id).join(', ')})`,
      )
    const ticks = opts.ticks ?? intBetween(rng(), 2, 12)
    const unknownProgress =
      opts.progress === -1 || (opts.progress === undefined && type === 'library.update.section' && rng() < 0.3)
    let subtitle = section?.title ?? ''
    if (type === 'library.refresh.items' || type === 'media.generate.bif' || type === 'media.generate.intros') {
      const rows = lib.recentLeaves(sectionId)
      if (rows.length > 0) subtitle = lib.title(rows[Math.floor(rng() * Math.min(rows.length, 50))]!)
    }
    if (type === 'provider.epg.load') subtitle = `Downloaded ${intBetween(rng(), 20, 400)} airings`
    const a: Activity = {
      uuid: uuidFrom(rng),
      type,
      title: ACTIVITY_TITLES[type],
      subtitle,
      progress: unknownProgress ? -1 : Math.max(0, Math.min(100, opts.progress ?? 0)),
      unknownProgress,
      librarySectionID: sectionId,
      userID: 1,
      cancellable: type !== 'provider.epg.load',
      ticksLeft: Math.max(1, ticks),
      totalTicks: Math.max(1, ticks),
      newItems: opts.newItems ?? (type === 'library.update.section' ? intBetween(rng(), 0, 3) : 0),
    }
    this.activities.push(a)
    this.activitiesVersion++
    this.notify('activity', 'ActivityNotification', () => activityNotification(a, 'started'))
    return a
  }

  endActivity(uuid: string): boolean {
    const a = this.activities.find((x) => x.uuid === uuid)
    if (!a) return false
    this.finishActivity(a)
    return true
  }

  addMedia(opts: AddMediaOptions = {}): MediaInfo {
    const lib = this.world.library
    const rng = this.rng
    const now = this.now()
    const type = opts.type ?? (['movie', 'episode', 'track'] as const)[Math.floor(rng() * 3)]!
    let row: number
    let parentRow = -1
    if (type === 'movie') {
      const section = opts.librarySectionID ?? SECTION_IDS.movies
      const s = lib.sectionById(section)
      if (!s || s.type !== 'movie') throw new Error(`addMedia: librarySectionID ${section} is not a movie section`)
      row = addMovie(lib, rng, section, now, false, opts.title)
    } else {
      const parentType = type === 'episode' ? TYPE.season : TYPE.album
      const sectionId = type === 'episode' ? SECTION_IDS.shows : SECTION_IDS.music
      const parents = lib.listing(sectionId, parentType, 'addedAt:desc')
      if (parents.length === 0)
        throw new Error(
          `addMedia: the library has no ${TYPE_NAME[parentType]} to add a ${type} to; use a larger items count`,
        )
      parentRow = parents[Math.floor(rng() * Math.min(parents.length, 20))]!
      const siblings = lib.childrenOf(parentRow)
      const last = siblings[siblings.length - 1]
      row = lib.add({
        type: type === 'episode' ? TYPE.episode : TYPE.track,
        section: sectionId,
        parent: parentRow,
        index: siblings.length + 1,
        year: lib.year[parentRow]!,
        duration: last !== undefined ? lib.duration[last]! : type === 'episode' ? 44 * 60_000 : 200_000,
        addedAt: now,
        title: opts.title,
      })
    }
    const section = lib.sectionById(lib.section[row]!)!
    section.contentChangedAt++
    section.updatedAt = now
    for (const state of [0, 5]) this.notify('timeline', 'TimelineEntry', () => this.timelineEntry(row, state))
    return {
      ratingKey: String(lib.ratingKey(row)),
      type,
      title: lib.title(row),
      librarySectionID: section.id,
      addedAt: now,
      ...(parentRow >= 0 ? { parentRatingKey: String(lib.ratingKey(parentRow)) } : {}),
    }
  }

  deleteMedia(ratingKey: string | number): boolean {
    const lib = this.world.library
    const row = lib.rowOf(ratingKey)
    const removed = lib.remove(row)
    if (removed.length === 0) return false
    this.world.history.version++
    for (const r of removed) this.notify('timeline', 'TimelineEntry', () => this.timelineEntry(r, 9))
    return true
  }

  private notify(type: string, key: string, build: () => Record<string, unknown>): void {
    if (this.sink.hasListeners()) this.sink.publish({ type, key, entry: build() })
  }

  private timelineEntry(row: number, state: number): Record<string, unknown> {
    const lib = this.world.library
    return {
      identifier: 'com.plexapp.plugins.library',
      sectionID: String(lib.section[row]),
      itemID: String(lib.ratingKey(row)),
      type: lib.type[row],
      title: lib.title(row),
      state,
      ...(state === 0 ? { metadataState: 'created' } : {}),
      updatedAt: this.now(),
    }
  }

  private randomPlayable(kind: 'movie' | 'episode' | 'track' | 'photo'): number {
    const lib = this.world.library
    const candidates =
      kind === 'movie'
        ? [
            lib.listing(SECTION_IDS.movies, TYPE.movie, 'ratingKey'),
            lib.listing(SECTION_IDS.documentaries, TYPE.movie, 'ratingKey'),
          ]
        : kind === 'episode'
          ? [lib.listing(SECTION_IDS.shows, TYPE.episode, 'ratingKey')]
          : kind === 'track'
            ? [lib.listing(SECTION_IDS.music, TYPE.track, 'ratingKey')]
            : [lib.listing(SECTION_IDS.photos, TYPE.photo, 'ratingKey')]
    const total = candidates.reduce((n, c) => n + c.length, 0)
    if (total === 0) return -1
    let i = Math.floor(this.rng() * total)
    for (const c of candidates) {
      if (i < c.length) return c[i]!
      i -= c.length
    }
    return -1
  }

  private offLibraryItem(kind: SessionKind): OffLibraryItem {
    const rng = this.rng
    const n = ++this.offLibraryCounter
    const guid = offLibraryGuid(this.world, kind, n)
    if (kind === 'preroll') {
      const rk = String(900_000 + n)
      return {
        ratingKey: rk,
        key: `/library/metadata/${rk}`,
        guid,
        type: 'clip',
        title: 'fancy_preroll',
        librarySectionID: -2,
        duration: intBetween(rng(), 6, 30) * 1000,
      }
    }
    if (kind === 'unknown') {
      const rk = String(9_876_500_000 + n)
      return {
        ratingKey: rk,
        key: `/library/metadata/${rk}`,
        guid,
        type: 'clip',
        title: 'some_unknown_item',
        librarySectionID: -3,
        duration: 99_999,
      }
    }
    // Live TV has no ratingKey and no library section; its key points at the tuner session.
    return {
      key: `/livetv/sessions/${uuidFrom(rng)}`,
      guid,
      type: 'episode',
      title: `Evening News ${n}`,
      grandparentTitle: `KSIM ${intBetween(rng(), 2, 60)}.1`,
      duration: intBetween(rng(), 30, 60) * 60_000,
    }
  }

  private seedInitialState(): void {
    // A representative mix from the first request on: a transcoded episode, a movie
    // direct-played from one of two versions, music, and one scan in progress.
    this.startSession({ kind: 'episode', transcode: true, viewOffset: 600_000 })
    this.startSession({ kind: 'movie', transcode: false, multipleMedia: true, viewOffset: 1_800_000 })
    this.startSession({ kind: 'track' })
    if (this.rng() < 0.5) this.startSession({ kind: this.rng() < 0.5 ? 'livetv' : 'preroll' })
    this.startActivity({ type: 'library.update.section', librarySectionID: SECTION_IDS.shows, ticks: 6, newItems: 1 })
  }

  private tick(t: number): void {
    const rng = this.rng
    for (const s of [...this.sessions]) {
      if (s.state === 'playing') s.viewOffset = Math.min(s.duration, s.viewOffset + TICK_SECONDS * 1000)
      else if (s.state === 'buffering') s.state = 'playing'
      const ended = s.endsAt !== null ? t >= s.endsAt : s.duration > 0 && s.viewOffset >= s.duration
      if (ended) {
        this.stop(s, t)
        continue
      }
      if (this.auto) {
        const r = rng()
        if (s.state === 'playing' && r < 0.01) {
          s.state = 'paused'
          s.pausedAt = t
        } else if (s.state === 'playing' && r < 0.014) {
          s.state = 'buffering'
        } else if (s.state === 'paused' && r < 0.12) {
          s.state = 'playing'
          s.pausedAt = null
        }
        if ((s.pausedAt !== null && t - s.pausedAt > 900) || rng() < 0.0015) {
          this.stop(s, t)
          continue
        }
      }
      if (s.transcode) {
        s.transcode.progress = Math.min(
          100,
          Math.round((s.viewOffset / Math.max(1, s.duration)) * 1000 + rng() * 30) / 10,
        )
        s.transcode.throttled = s.transcode.speed > 2 && rng() < 0.5
        this.notify('transcodeSession.update', 'TranscodeSession', () => transcodeNotification(this.world, s))
      }
      this.notify('playing', 'PlaySessionStateNotification', () => playingNotification(this.world, s, s.state))
    }
    if (this.sessions.length > 0) this.sessionsVersion++

    for (const a of [...this.activities]) {
      a.ticksLeft--
      if (a.ticksLeft <= 0) {
        this.finishActivity(a)
        continue
      }
      if (!a.unknownProgress) a.progress = Math.min(99, Math.round(((a.totalTicks - a.ticksLeft) / a.totalTicks) * 100))
      this.activitiesVersion++
      this.notify('activity', 'ActivityNotification', () => activityNotification(a, 'updated'))
    }

    if (this.auto) {
      const n = this.sessions.length
      const pStart = n < 2 ? 0.2 : n < 4 ? 0.06 : n < 8 ? 0.01 : 0
      if (rng() < pStart) this.startSession()
      if (this.activities.length < 3 && rng() < 0.01) this.startActivity()
    }
    if (this.sink.hasListeners()) this.sink.publish({ type: 'ping' })
  }

  private finishActivity(a: Activity): void {
    const i = this.activities.indexOf(a)
    if (i < 0) return
    this.activities.splice(i, 1)
    if (!a.unknownProgress) a.progress = 100
    this.activitiesVersion++
    this.notify('activity', 'ActivityNotification', () => activityNotification(a, 'ended'))
    if (a.type === 'library.update.section' && a.librarySectionID !== null) {
      const section = this.world.library.sectionById(a.librarySectionID)
      if (section) {
        section.scannedAt = this.now()
        const kind =
          section.type === 'movie'
            ? 'movie'
            : section.type === 'show'
              ? 'episode'
              : section.type === 'artist'
                ? 'track'
                : null
        for (let i = 0; kind && i < a.newItems; i++) {
          this.addMedia({ type: kind, ...(kind === 'movie' ? { librarySectionID: section.id } : {}) })
        }
        this.notify('status', 'StatusNotification', () => ({
          title: 'Library scan complete',
          description: '',
          notificationName: 'LIBRARY_UPDATE',
        }))
      }
    }
  }

  private stop(s: Session, t: number): void {
    const i = this.sessions.indexOf(s)
    if (i < 0) return
    this.sessions.splice(i, 1)
    this.sessionsVersion++
    this.notify('playing', 'PlaySessionStateNotification', () => playingNotification(this.world, s, 'stopped'))
    if (s.transcode) this.notify('transcodeSession.end', 'TranscodeSession', () => transcodeNotification(this.world, s))
    const lib = this.world.library
    const watched = s.kind === 'movie' || s.kind === 'episode' || s.kind === 'track'
    if (watched && lib.exists(s.row)) {
      this.world.history.append(s.row, s.account.id, Math.floor(t), s.device.id)
    }
  }
}
