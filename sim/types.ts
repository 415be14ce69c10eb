/** Public types of the simulator; `sim/index.ts` re-exports them. */

export interface SimulatorOptions {
  /** Default 32400; 0 picks a random free port. */
  port?: number
  /** Default '127.0.0.1'. */
  host?: string
  /** The one accepted X-Plex-Token (PMS and plex.tv). Default 'sim-token'. */
  token?: string
  /** Default 1; the same seed gives the same library, history and live state, byte for byte. */
  seed?: number
  /** Live library items of every type (movies, shows, seasons, episodes, artists, albums, tracks, photos). Default 500, up to 100_000. */
  items?: number
  /** Users the server is shared with (plex.tv accounts beside the owner). Default 3 to 10, drawn from the seed; up to 1000. */
  sharedUsers?: number
  /** Generated watch-history rows. Default items * 2, up to 1_000_000. */
  historyRows?: number
  /** Live clock speed multiplier. Default 1; 0 freezes the clock so state only moves via advance(). */
  speed?: number
  /** Default true: sessions, activities and new media start and stop by themselves on the live clock. */
  liveSessions?: boolean
  /** Fixed latency added to every PMS answer (not the control API). Default 0. */
  latencyMs?: number
  /** `friendlyName`. Default 'Komandorr Sim'. */
  serverName?: string
  /** One line per request on stdout. Default false. */
  log?: boolean
  /**
   * Unix seconds at which the simulated clock starts. Default 1_767_225_600
   * (2026-01-01T00:00:00Z), fixed so runs are repeatable; pass Math.floor(Date.now() / 1000)
   * for "now".
   */
  startTime?: number
  /** Monotonic time source in ms that drives the live clock. Default performance.now. */
  monotonicNow?: () => number
}

export type FaultStatus = 401 | 500 | 503
export type FaultMode = 'hang' | 'drop' | 'outage'

export interface Fault {
  /** An endpoint pattern as in requestCounts() (e.g. '/status/sessions'), or '*' (default) for every endpoint. */
  endpoint?: string
  /** Added before answering. */
  latencyMs?: number
  /** Added per item in the answer (a 1,000-row page costs 1,000 times this). */
  latencyPerItemMs?: number
  /** 0..1: share of matching requests answered 500. */
  errorRate?: number
  /** Every matching request answers this status. */
  status?: FaultStatus
  /**
   * hang: accept and never answer; drop: destroy the socket without answering;
   * outage: stop listening (ECONNREFUSED) until cleared. An outage takes the whole
   * port down whatever `endpoint` says.
   */
  mode?: FaultMode
  /** Clears this fault by itself after this many real milliseconds. */
  durationMs?: number
}

export type SessionKind = 'movie' | 'episode' | 'track' | 'photo' | 'livetv' | 'preroll' | 'unknown'
export type PlayerState = 'playing' | 'paused' | 'buffering'

export interface StartSessionOptions {
  /** What is played. Default: a random kind weighted like a real server's (mostly episodes and movies). */
  kind?: SessionKind
  /** Play this library item (its type decides the kind). */
  ratingKey?: string | number
  /** Account id (1 = owner, or a shared user's plex.tv id). Default random. */
  accountId?: number
  /** Force a TranscodeSession (true) or direct play (false). Default random (video ~40 % transcode). */
  transcode?: boolean
  /** Start paused. */
  paused?: boolean
  /** Give the item a second `Media` (only one `selected`). Default random for movies. */
  multipleMedia?: boolean
  /** Start position in ms. Default 0 or random. */
  viewOffset?: number
  /** 'lan' or 'wan'. Default from the player. */
  location?: 'lan' | 'wan'
}

export interface SessionInfo {
  sessionKey: string
  kind: SessionKind
  ratingKey: string | null
  title: string
  librarySectionID: number | null
  accountId: number
  userName: string
  state: PlayerState
  viewOffset: number
  duration: number
  transcoding: boolean
  player: string
  startedAt: number
}

export type ActivityType =
  | 'library.update.section'
  | 'library.refresh.items'
  | 'media.generate.bif'
  | 'media.generate.intros'
  | 'provider.epg.load'

export interface StartActivityOptions {
  type?: ActivityType
  /** Library section the activity is about. Default random. */
  librarySectionID?: number
  /** -1 for unknown progress throughout. Default 0. */
  progress?: number
  /** How many 10-s ticks until it ends. Default random. */
  ticks?: number
  /** A section scan that ends adds this many new items (default random 0..3 for scans). */
  newItems?: number
}

export interface ActivityInfo {
  uuid: string
  type: ActivityType
  title: string
  subtitle: string
  progress: number
  librarySectionID: number | null
}

export interface AddMediaOptions {
  type?: 'movie' | 'episode' | 'track'
  /** A movie section id for movies (1 or 5). */
  librarySectionID?: number
  title?: string
}

export interface MediaInfo {
  ratingKey: string
  type: 'movie' | 'episode' | 'track'
  title: string
  librarySectionID: number
  addedAt: number
  /** Episodes and tracks: the season/album they were added to. */
  parentRatingKey?: string
}

export interface SectionInfo {
  id: number
  title: string
  type: string
  /** Live item counts keyed by type id (1 movie, 2 show, 3 season, 4 episode, 8 artist, 9 album, 10 track, 13 photo). */
  counts: Record<string, number>
}

export interface SimulatorState {
  /** Simulated wall clock, unix seconds. */
  now: number
  speed: number
  sessions: SessionInfo[]
  activities: ActivityInfo[]
  library: {
    items: number
    deletedItems: number
    byType: Record<string, number>
    sections: SectionInfo[]
  }
  historyRows: number
  /** Newest history row's viewedAt (0 when empty). */
  newestViewedAt: number
  accounts: { id: number; name: string }[]
  sharedUsers: number
  notificationClients: { websocket: number; eventsource: number }
  faults: Fault[]
  requests: number
}

export interface SimulatorControl {
  /** Requests per endpoint pattern (PMS and plex.tv endpoints; the control API is not counted). */
  requestCounts(): Record<string, number>
  totalRequests(): number
  resetCounts(): void
  /** Adds a fault (merged into an existing one for the same endpoint). Await it: an outage closes the port. */
  setFault(fault: Fault): Promise<void>
  /** Removes every fault (and listens again after an outage). */
  clearFaults(): Promise<void>
  faults(): Fault[]
  /** Moves the live clock forward: sessions progress and stop (landing in history), activities progress and end, media may be added. */
  advance(seconds: number): void
  setSpeed(speed: number): void
  /** Simulated wall clock, unix seconds. */
  now(): number
  startSession(opts?: StartSessionOptions): SessionInfo
  /** Stops a session (it lands in history when it played a library item); false if unknown. */
  stopSession(sessionKey: string): boolean
  pauseSession(sessionKey: string): boolean
  resumeSession(sessionKey: string): boolean
  /** Moves a session's position (ms, clamped to its duration), as a player seeking; false if unknown. */
  seekSession(sessionKey: string, viewOffsetMs: number): boolean
  startActivity(opts?: StartActivityOptions): ActivityInfo
  endActivity(uuid: string): boolean
  addMedia(opts?: AddMediaOptions): MediaInfo
  /** Deletes an item (and its children): timeline state 9; its history rows become reduced rows. */
  deleteMedia(ratingKey: string | number): boolean
  state(): SimulatorState
  /** Closes every WebSocket and SSE notification connection; returns how many. */
  dropNotificationClients(): number
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:45123, also the plex.tv base URL for shared_servers. */
  url: string
  port: number
  token: string
  machineIdentifier: string
  control: SimulatorControl
  close(): Promise<void>
}
