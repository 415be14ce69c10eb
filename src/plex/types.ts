// The typed shapes the Plex client returns. Field names follow PMS (`ratingKey`,
// `librarySectionID`, `viewOffset`, ...) so they can be looked up in Plex documentation; child
// elements become camelCase properties (`User` → `user`, `Media[]` → `media`, `Genre[]` →
// `genres`). Values are coerced: numbers are numbers, flags are booleans, identifiers such as
// `ratingKey` are strings, times are unix seconds, durations and offsets are milliseconds.
// An optional field is `undefined` when PMS left it out.

/** PMS metadata type ids used in `type=` filters. */
export const PlexTypeId = {
  movie: 1,
  show: 2,
  season: 3,
  episode: 4,
  artist: 8,
  album: 9,
  track: 10,
  clip: 12,
  photo: 13,
  playlist: 15,
  collection: 18,
} as const
export type PlexTypeId = (typeof PlexTypeId)[keyof typeof PlexTypeId]

/** `GET /` */
export interface ServerInfo {
  friendlyName: string
  machineIdentifier: string
  version: string
  platform?: string
  platformVersion?: string
  myPlex?: boolean
  myPlexUsername?: string
  myPlexSubscription?: boolean
  transcoderActiveVideoSessions?: number
  /** unix s */
  updatedAt?: number
}

/** `GET /identity` (answers without a token). */
export interface ServerIdentity {
  machineIdentifier: string
  version: string
  claimed?: boolean
}

/** `GET /accounts`: id 0 is the system account, 1 the owner; shared users keep their plex.tv id. */
export interface Account {
  id: number
  name: string
  key?: string
  thumb?: string
}

export interface LibraryLocation {
  id?: number
  path: string
}

/** `GET /library/sections` → `Directory[]` */
export interface LibrarySection {
  /** The section id, from PMS `key` ("1" → 1). */
  id: number
  type: 'movie' | 'show' | 'artist' | 'photo' | (string & {})
  title: string
  agent?: string
  scanner?: string
  language?: string
  uuid?: string
  refreshing: boolean
  hidden?: boolean
  thumb?: string
  art?: string
  /** unix s */
  createdAt?: number
  updatedAt?: number
  scannedAt?: number
  contentChangedAt?: number
  locations: LibraryLocation[]
}

export interface MediaPart {
  id?: number
  key?: string
  file?: string
  /** bytes */
  size?: number
  duration?: number
  container?: string
  /** Sessions only: `directplay` | `transcode` | `copy`. */
  decision?: string
  selected?: boolean
}

export interface Media {
  id?: number
  duration?: number
  /** kbit/s */
  bitrate?: number
  width?: number
  height?: number
  /** "1080", "720", "4k", "sd", "720p", "SD" ... as PMS sends it, always text. */
  videoResolution?: string
  videoCodec?: string
  videoFrameRate?: string
  audioCodec?: string
  audioChannels?: number
  container?: string
  /** PMS flags the Media being played in a session; false when absent. */
  selected: boolean
  parts: MediaPart[]
}

/** A library item: recentlyAdded entries, section listings and `/library/metadata` results. */
export interface LibraryItem {
  /** Absent only in trimmed or unusual payloads (PMS normally always sends it). */
  ratingKey?: string
  key?: string
  guid?: string
  /** movie | show | season | episode | artist | album | track | photo | clip | collection | playlist ... */
  type: string
  title: string
  titleSort?: string
  originalTitle?: string
  summary?: string
  tagline?: string
  studio?: string
  contentRating?: string
  year?: number
  originallyAvailableAt?: string
  rating?: number
  audienceRating?: number
  thumb?: string
  art?: string
  /** ms */
  duration?: number
  /** unix s */
  addedAt?: number
  updatedAt?: number
  lastViewedAt?: number
  viewCount?: number
  librarySectionID?: number
  librarySectionTitle?: string
  parentRatingKey?: string
  grandparentRatingKey?: string
  parentTitle?: string
  grandparentTitle?: string
  parentThumb?: string
  grandparentThumb?: string
  grandparentArt?: string
  index?: number
  parentIndex?: number
  /** Episodes or tracks below a show, season or album. */
  leafCount?: number
  viewedLeafCount?: number
  childCount?: number
  genres: string[]
  media: Media[]
}

export interface SessionUser {
  /** Account id (matches `Account.id` and history `accountID`). */
  id?: number
  title?: string
  thumb?: string
}

export type PlayerState = 'playing' | 'paused' | 'buffering' | (string & {})

export interface SessionPlayer {
  state: PlayerState
  title?: string
  device?: string
  product?: string
  platform?: string
  platformVersion?: string
  address?: string
  remotePublicAddress?: string
  machineIdentifier?: string
  local?: boolean
  relayed?: boolean
  secure?: boolean
  version?: string
}

export interface SessionNetwork {
  id?: string
  /** kbit/s */
  bandwidth?: number
  location?: 'lan' | 'wan' | (string & {})
}

/** Present only while PMS transcodes the session. */
export interface TranscodeSession {
  key?: string
  speed?: number
  /** 0..100 */
  progress?: number
  throttled?: boolean
  complete?: boolean
  /** ms of the source. */
  duration?: number
  /** Seconds PMS expects the transcode to still take. */
  remaining?: number
  /** streaming | static (a download or sync). */
  context?: string
  /** http | dash | hls ... */
  protocol?: string
  videoDecision?: 'transcode' | 'copy' | (string & {})
  audioDecision?: 'transcode' | 'copy' | (string & {})
  container?: string
  videoCodec?: string
  audioCodec?: string
  sourceVideoCodec?: string
  sourceAudioCodec?: string
  width?: number
  height?: number
  transcodeHwRequested?: boolean
  transcodeHwFullPipeline?: boolean
}

/** `GET /status/sessions` → one entry per playing client. */
export interface PlaybackSession {
  /** Numeric text; restarts from 1 when PMS restarts. */
  sessionKey: string
  /** Absent for live TV. */
  ratingKey?: string
  key?: string
  guid?: string
  type: string
  title: string
  parentTitle?: string
  grandparentTitle?: string
  parentRatingKey?: string
  grandparentRatingKey?: string
  index?: number
  parentIndex?: number
  year?: number
  /** Critic rating, 0..10. */
  rating?: number
  contentRating?: string
  thumb?: string
  art?: string
  grandparentArt?: string
  parentThumb?: string
  grandparentThumb?: string
  /** -2 for prerolls, -3 for unknown items; undefined for live TV. */
  librarySectionID?: number
  librarySectionTitle?: string
  /** True for live TV sessions. */
  live: boolean
  /** ms */
  duration?: number
  viewOffset?: number
  addedAt?: number
  user: SessionUser
  player: SessionPlayer
  session?: SessionNetwork
  transcodeSession?: TranscodeSession
  /** Every Media PMS listed; several appear when an item has versions. */
  media: Media[]
  /** The Media flagged `selected`, else the only Media, else undefined. */
  selectedMedia?: Media
}

/** `GET /activities` */
export interface Activity {
  uuid: string
  /** library.update.section, library.refresh.items, media.generate, provider.epg.load ... */
  type: string
  title: string
  subtitle?: string
  cancellable: boolean
  userID?: number
  /** -1 when unknown, else 0..100. */
  progress: number
  /** From `Context.librarySectionID`. */
  librarySectionID?: number
}

/** A row of `GET /status/sessions/history/all`. */
export interface HistoryRow {
  /** e.g. `/status/sessions/history/1`. */
  historyKey: string
  /** Absent when the item was deleted from the library. */
  ratingKey?: string
  /** True when PMS kept only the bare row because the item is gone (no ratingKey). */
  deleted: boolean
  key?: string
  parentRatingKey?: string
  grandparentRatingKey?: string
  title: string
  parentTitle?: string
  grandparentTitle?: string
  type: string
  thumb?: string
  parentThumb?: string
  grandparentThumb?: string
  grandparentArt?: string
  index?: number
  parentIndex?: number
  originallyAvailableAt?: string
  /** unix s */
  viewedAt: number
  accountID: number
  deviceID?: number
  librarySectionID?: number
}

export interface HistoryPage {
  rows: HistoryRow[]
  /** Start of this page in the full, filtered list. */
  offset: number
  /** Size of the full, filtered list when PMS stated it. */
  totalSize?: number
}

export interface LibraryItemPage {
  items: LibraryItem[]
  offset: number
  totalSize?: number
}

export interface SharedSection {
  id: number
  key?: string
  title: string
  type?: string
  shared: boolean
}

/** plex.tv `SharedServer`: one per user the server is shared with. The user's access token is never returned. */
export interface SharedServer {
  id: number
  /** plex.tv account id (matches `Account.id`). */
  userID: number
  username: string
  email?: string
  /** Server name. */
  name?: string
  invitedAt?: number
  acceptedAt?: number
  owned?: boolean
  allowSync?: boolean
  allLibraries?: boolean
  sections: SharedSection[]
}

export interface PlexImage {
  status: number
  contentType: string | undefined
  body: Buffer
}
