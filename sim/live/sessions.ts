import { el, item, single, toJson, type Attrs, type El } from '../container.js'
import { audioMedia, guidHex, itemElement, videoMedia, videoProfile } from '../library/render.js'
import { TYPE } from '../library/types.js'
import { avatarUrl, type Account, type Device } from '../people.js'
import type { PlayerState, SessionInfo, SessionKind } from '../types.js'
import type { World } from '../world.js'

export interface Transcode {
  key: string
  videoDecision: 'transcode' | 'copy'
  audioDecision: 'transcode' | 'copy'
  speed: number
  progress: number
  throttled: boolean
  hw: boolean
  width: number
  height: number
}

/** An item that is not in the library: live TV, a preroll, or something PMS cannot place. */
export interface OffLibraryItem {
  ratingKey?: string
  key: string
  guid: string
  type: 'episode' | 'clip' | 'movie'
  title: string
  grandparentTitle?: string
  librarySectionID?: number
  duration: number
}

export interface Session {
  sessionKey: string
  kind: SessionKind
  /** Library row, or -1 for off-library items. */
  row: number
  offLibrary: OffLibraryItem | null
  account: Account
  device: Device
  state: PlayerState
  /** Position as last reported by the player (players report about every 10 s). */
  viewOffset: number
  duration: number
  startedAt: number
  pausedAt: number | null
  /** Photos have no duration: they end at this sim time. */
  endsAt: number | null
  transcode: Transcode | null
  mediaVersions: number
  selectedVersion: number
  location: 'lan' | 'wan'
  bandwidth: number
  sessionId: string
  playQueueItemID: number
}

export function sessionInfo(world: World, s: Session): SessionInfo {
  const lib = world.library
  const title = s.row >= 0 ? lib.title(s.row) : (s.offLibrary?.title ?? '')
  return {
    sessionKey: s.sessionKey,
    kind: s.kind,
    ratingKey: s.row >= 0 ? String(lib.ratingKey(s.row)) : (s.offLibrary?.ratingKey ?? null),
    title,
    librarySectionID: s.row >= 0 ? lib.section[s.row]! : (s.offLibrary?.librarySectionID ?? null),
    accountId: s.account.id,
    userName: s.account.name,
    state: s.state,
    viewOffset: s.viewOffset,
    duration: s.duration,
    transcoding: s.transcode !== null,
    player: s.device.title,
    startedAt: s.startedAt,
  }
}

function ratingKeyOf(world: World, s: Session): string | undefined {
  return s.row >= 0 ? String(world.library.ratingKey(s.row)) : s.offLibrary?.ratingKey
}

function keyOf(world: World, s: Session): string {
  return s.row >= 0 ? `/library/metadata/${world.library.ratingKey(s.row)}` : (s.offLibrary?.key ?? '')
}

/** The `PlaySessionStateNotification` a player report produces. */
export function playingNotification(world: World, s: Session, state: PlayerState | 'stopped'): Record<string, unknown> {
  const out: Record<string, unknown> = {
    sessionKey: s.sessionKey,
    clientIdentifier: s.device.machineIdentifier,
    guid: '',
    ratingKey: ratingKeyOf(world, s) ?? '',
    url: '',
    key: keyOf(world, s),
    viewOffset: s.viewOffset,
    playQueueItemID: s.playQueueItemID,
    state,
  }
  if (s.transcode) out.transcodeSession = s.transcode.key.slice('/transcode/sessions/'.length)
  return out
}

function sourceCodecs(world: World, s: Session): { video?: string; audio: string } {
  if (s.row >= 0 && world.library.type[s.row] === TYPE.track) return { audio: 'flac' }
  if (s.row >= 0) {
    const p = videoProfile(world.library, s.row, s.selectedVersion)
    return { video: p.videoCodec, audio: p.audioCodec }
  }
  return { video: 'h264', audio: 'aac' }
}

export function transcodeElement(world: World, s: Session, asSingle: boolean): El {
  const t = s.transcode!
  const src = sourceCodecs(world, s)
  const video = src.video !== undefined
  const attrs: Attrs = {
    key: t.key,
    throttled: t.throttled,
    complete: false,
    progress: t.progress,
    size: -22,
    speed: t.speed,
    error: false,
    duration: s.duration,
    remaining: Math.max(0, Math.round((s.duration - s.viewOffset) / 1000 / Math.max(t.speed, 0.1))),
    context: 'streaming',
    sourceVideoCodec: src.video,
    sourceAudioCodec: src.audio,
    videoDecision: video ? t.videoDecision : undefined,
    audioDecision: t.audioDecision,
    protocol: video ? 'dash' : 'http',
    container: video ? 'mp4' : 'mp3',
    videoCodec: video ? (t.videoDecision === 'copy' ? src.video : 'h264') : undefined,
    audioCodec: t.audioDecision === 'copy' ? src.audio : 'aac',
    audioChannels: 2,
    width: video ? t.width : undefined,
    height: video ? t.height : undefined,
    transcodeHwRequested: t.hw,
    transcodeHwFullPipeline: false,
    timeStamp: Math.round(s.startedAt * 1000) / 1000,
    maxOffsetAvailable: Math.round(s.viewOffset / 100) / 10 + 30,
    minOffsetAvailable: 0,
  }
  return asSingle ? single('TranscodeSession', attrs) : el('TranscodeSession', attrs)
}

export function transcodeNotification(world: World, s: Session): Record<string, unknown> {
  return toJson(transcodeElement(world, s, false))
}

/** Media of a session: the library Media with `selected` on one and playback decisions. */
function sessionMedia(world: World, s: Session): El[] {
  const lib = world.library
  const decision = s.transcode ? 'transcode' : 'directplay'
  const decorate = (media: El, selected: boolean): El => {
    if (!selected) return media
    const part = media.children?.[0]
    const children: El[] = []
    if (part) {
      const streams: El[] = []
      if (media.attrs.videoCodec !== undefined) {
        streams.push(
          el('Stream', {
            id: Number(media.attrs.id) * 3,
            streamType: 1,
            codec: media.attrs.videoCodec,
            bitrate: media.attrs.bitrate,
            width: media.attrs.width,
            height: media.attrs.height,
            displayTitle: `${media.attrs.videoResolution} (${String(media.attrs.videoCodec).toUpperCase()})`,
            decision: s.transcode ? s.transcode.videoDecision : 'directplay',
            location: s.transcode ? 'segments-video' : 'direct',
            default: true,
          }),
        )
      }
      streams.push(
        el('Stream', {
          id: Number(media.attrs.id) * 3 + 1,
          streamType: 2,
          codec: media.attrs.audioCodec,
          channels: media.attrs.audioChannels,
          language: 'English',
          languageCode: 'eng',
          selected: true,
          default: true,
          displayTitle: `English (${String(media.attrs.audioCodec).toUpperCase()})`,
          decision: s.transcode ? s.transcode.audioDecision : 'directplay',
          location: s.transcode ? 'segments-audio' : 'direct',
        }),
      )
      children.push(el('Part', { ...part.attrs, id: String(part.attrs.id), decision, selected: true }, streams))
    }
    // Sessions send Media ids as strings and `selected` as a boolean (unlike the library).
    return el('Media', { ...media.attrs, id: String(media.attrs.id), selected: true }, children)
  }
  if (s.row >= 0 && lib.type[s.row] === TYPE.track) return [decorate(audioMedia(lib, s.row), true)]
  if (s.row >= 0 && lib.type[s.row] === TYPE.photo) {
    const full = itemElement(lib, s.row, 'list')
    return (full.children ?? []).filter((c) => c.tag === 'Media').map((m) => decorate(m, true))
  }
  if (s.row >= 0) {
    const out: El[] = []
    for (let v = 0; v < s.mediaVersions; v++) out.push(decorate(videoMedia(lib, s.row, v), v === s.selectedVersion))
    return out
  }
  const off = s.offLibrary!
  return [
    el(
      'Media',
      {
        id: '0',
        duration: off.duration,
        bitrate: 1886,
        width: 1280,
        height: 720,
        audioChannels: 2,
        audioCodec: 'aac',
        videoCodec: 'h264',
        videoResolution: '720',
        container: 'mp4',
        videoFrameRate: '60p',
        protocol: 'dash',
        selected: true,
      },
      [el('Part', { id: '0', duration: off.duration, container: 'mp4', protocol: 'dash', decision, selected: true })],
    ),
  ]
}

function peopleElements(world: World, s: Session): El[] {
  const d = s.device
  return [
    single('User', { id: String(s.account.id), thumb: avatarUrl(s.account), title: s.account.name }),
    single('Player', {
      address: d.address,
      device: d.device,
      machineIdentifier: d.machineIdentifier,
      model: d.model,
      platform: d.platform,
      platformVersion: d.platformVersion,
      product: d.product,
      profile: d.profile,
      remotePublicAddress: d.remotePublicAddress,
      state: s.state,
      title: d.title,
      vendor: d.vendor || undefined,
      version: d.version,
      local: s.location === 'lan',
      relayed: false,
      secure: true,
      userID: s.account.id,
    }),
    single('Session', { id: s.sessionId, bandwidth: s.bandwidth, location: s.location }),
  ]
}

/**
 * One `/status/sessions` entry. Mirrors real captures: `librarySectionID` and `User.id`
 * are strings here (numbers elsewhere), Player flags are booleans, `TranscodeSession`
 * appears only while transcoding.
 */
export function sessionElement(world: World, s: Session): El {
  const lib = world.library
  let attrs: Attrs
  let tag: string
  if (s.row >= 0) {
    const base = itemElement(lib, s.row, 'list')
    tag = base.tag
    attrs = { ...base.attrs }
    attrs.librarySectionID = String(lib.section[s.row])
    attrs.librarySectionKey = `/library/sections/${lib.section[s.row]}`
    attrs.librarySectionTitle = lib.sectionById(lib.section[s.row]!)?.title
    attrs.sessionKey = s.sessionKey
    attrs.viewOffset = s.viewOffset
    const tags = (base.children ?? []).filter((c) => c.tag !== 'Media')
    return item(tag, attrs, [
      ...sessionMedia(world, s),
      ...tags,
      ...peopleElements(world, s),
      ...(s.transcode ? [transcodeElement(world, s, true)] : []),
    ])
  }
  const off = s.offLibrary!
  tag = 'Video'
  attrs = {
    addedAt: Math.floor(s.startedAt),
    duration: off.duration,
    guid: off.guid,
    key: off.key,
    librarySectionID: off.librarySectionID !== undefined ? String(off.librarySectionID) : undefined,
    live: s.kind === 'livetv' ? true : undefined,
    ratingKey: off.ratingKey,
    sessionKey: s.sessionKey,
    grandparentTitle: off.grandparentTitle,
    summary: '',
    thumb: off.ratingKey ? `/library/metadata/${off.ratingKey}/thumb/${Math.floor(s.startedAt)}` : undefined,
    title: off.title,
    type: off.type,
    viewOffset: s.viewOffset,
  }
  return item(tag, attrs, [
    ...sessionMedia(world, s),
    ...peopleElements(world, s),
    ...(s.transcode ? [transcodeElement(world, s, true)] : []),
  ])
}

export function offLibraryGuid(world: World, kind: SessionKind, n: number): string {
  const hex = guidHex(world.library.seed, 900_000 + n)
  if (kind === 'livetv') return `plex://episode/${hex}`
  if (kind === 'preroll') return `analyzed.prerolls://${hex}${hex.slice(0, 16)}`
  return 'no_idea'
}
