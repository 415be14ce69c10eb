import { plexImageUrl } from '../../plex/image-url.js'
import { isPlexError, type PlaybackSession, type PlayingNotification, type PlexClient } from '../../plex/index.js'
import { bool, nullable, num, object, str } from '../../json-schema.js'
import { declareCache, patchOn, plexListRoute, refreshOn, type PlexList } from './declaration.js'

const sessionViewSchema = object({
  session_id: str,
  user: object({ name: str, id: str, thumb: nullable('string') }),
  media: object({
    title: str,
    type: str,
    year: nullable('number'),
    rating: nullable('number'),
    thumb: nullable('string'),
    art: nullable('string'),
  }),
  playback: object({ state: str, progress: num, position_ms: num, duration_ms: num }),
  device: object({ name: str, client: str, platform: str }),
  transcode: object({
    is_transcoding: bool,
    speed: nullable('number'),
    video_decision: nullable('string'),
    audio_decision: nullable('string'),
  }),
  stream: object({
    video_resolution: str,
    video_codec: str,
    audio_codec: str,
    container: str,
    bitrate: num,
    location: str,
    bandwidth: num,
  }),
})

/** One entry of `GET /api/plex/sessions` (Komandorr's shape). */
export interface SessionView {
  session_id: string
  user: { name: string; id: string; thumb: string | null }
  media: {
    title: string
    type: string
    year: number | null
    rating: number | null
    thumb: string | null
    art: string | null
  }
  playback: { state: string; progress: number; position_ms: number; duration_ms: number }
  device: { name: string; client: string; platform: string }
  transcode: {
    is_transcoding: boolean
    speed: number | null
    video_decision: string | null
    audio_decision: string | null
  }
  stream: {
    video_resolution: string
    video_codec: string
    audio_codec: string
    container: string
    bitrate: number
    location: string
    bandwidth: number
  }
}

export type SessionsValue = PlexList<'sessions', SessionView>

/** `plex_sessions`: `/status/sessions`, plus one batched lookup for show posters the sessions lack. */
export const sessionsCache = declareCache<SessionsValue>({
  name: 'plex_sessions',
  key: 'plex:sessions',
  ttl: { env: 'CACHE_SESSIONS_TTL', defaultSeconds: 10 },
  plexServer: 'fetched',
  push: [
    patchOn<SessionsValue>(['playing'], (value, change) =>
      change.name === 'playing' ? patchPlaying(value, change.items) : undefined,
    ),
    refreshOn('transcodeSession.start', 'transcodeSession.end'),
  ],
  routes: [
    plexListRoute(
      '/api/plex/sessions',
      'Plex sessions',
      'sessions',
      'The playing sessions (cached: plex_sessions)',
      sessionViewSchema,
    ),
  ],
  // A viewer sees their own streams, derived from the one /status/sessions load.
  viewers: {
    kind: 'view',
    view(value, viewer) {
      const own = String(viewer.plexAccountId)
      const sessions = value.sessions.filter((session) => session.user.id === own)
      return { error: false, sessions, total: sessions.length }
    },
  },
  async load({ plex, logger }, _args, signal) {
    const client = plex.client()
    const sessions = await client.sessions(signal)
    const onPosterLookupFailed = (error: unknown) =>
      logger.warn({ err: error }, 'show posters of the playing sessions could not be looked up')
    const shows = await showArtwork(client, sessions, signal, onPosterLookupFailed)
    const views = sessions.map((session) => sessionView(session, client.baseUrl, shows))
    return { error: false, sessions: views, total: views.length }
  },
})

/** A show's poster and art, as PMS paths. */
export interface ShowArtwork {
  thumb?: string
  art?: string
}

/**
 * `playing` reports of known sessions set their state, position and progress, as a reload at
 * that moment would. Undefined (reload) for a session the value does not hold, or one that
 * stopped. Transcode speed and bandwidth are not in these reports: they change with the next reload.
 */
function patchPlaying(value: SessionsValue, reports: readonly PlayingNotification[]): SessionsValue | undefined {
  let sessions = value.sessions
  for (const report of reports) {
    const i = sessions.findIndex((session) => session.session_id === report.sessionKey)
    if (i < 0 || report.state === 'stopped') return undefined
    const session = sessions[i]!
    const position = report.viewOffset ?? session.playback.position_ms
    const playback = {
      state: report.state,
      progress: playbackProgress({ viewOffset: position, duration: session.playback.duration_ms }),
      position_ms: position,
      duration_ms: session.playback.duration_ms,
    }
    if (sessions === value.sessions) sessions = [...sessions]
    sessions[i] = { ...session, playback }
  }
  return { ...value, sessions }
}

/**
 * Posters of the shows whose episodes are playing, once per show per load: from `grandparentThumb`
 * when the session carries it, else one batched `/library/metadata/a,b,c` request for the rest
 * (Komandorr fetched the show's metadata twice per episode session, on every poll).
 */
export async function showArtwork(
  client: PlexClient,
  sessions: readonly PlaybackSession[],
  signal: AbortSignal,
  onFailure?: (error: unknown) => void,
): Promise<Map<string, ShowArtwork>> {
  const shows = new Map<string, ShowArtwork>()
  const missing = new Set<string>()
  for (const session of sessions) {
    const key = session.grandparentRatingKey
    if (session.type !== 'episode' || key === undefined || shows.has(key)) continue
    if (session.grandparentThumb) {
      shows.set(key, { thumb: session.grandparentThumb, art: session.art })
      missing.delete(key)
    } else {
      missing.add(key)
    }
  }
  if (missing.size === 0) return shows
  try {
    for (const item of await client.metadata([...missing], signal)) {
      if (item.ratingKey !== undefined && missing.has(item.ratingKey))
        shows.set(item.ratingKey, { thumb: item.thumb, art: item.art })
    }
  } catch (error) {
    // Posters are decoration: sessions without them beat no sessions. An abort still aborts.
    if (signal.aborted || (isPlexError(error) && error.kind === 'aborted')) throw error
    onFailure?.(error)
  }
  return shows
}

export function sessionView(
  session: PlaybackSession,
  baseUrl: string,
  shows: ReadonlyMap<string, ShowArtwork>,
): SessionView {
  const show =
    session.type === 'episode' && session.grandparentRatingKey !== undefined
      ? shows.get(session.grandparentRatingKey)
      : undefined
  const transcode = session.transcodeSession
  const media = session.selectedMedia
  const image = (path: string | undefined) => plexImageUrl(baseUrl, path)
  return {
    session_id: session.sessionKey,
    user: {
      name: session.user.title || 'Unknown User',
      id: session.user.id === undefined ? '' : String(session.user.id),
      thumb: image(session.user.thumb),
    },
    media: {
      title: mediaTitle(session),
      type: session.type,
      year: session.year ?? null,
      rating: session.rating ?? null,
      thumb: image(show?.thumb ?? session.thumb ?? session.parentThumb ?? session.grandparentThumb ?? session.art),
      art: image(show?.art ?? session.grandparentArt ?? session.art),
    },
    playback: {
      state: session.player.state,
      progress: playbackProgress(session),
      position_ms: session.viewOffset ?? 0,
      duration_ms: session.duration ?? 0,
    },
    device: {
      name: session.player.device || 'Unknown Device',
      client: session.player.product || 'Unknown Client',
      platform: session.player.platform || 'Unknown',
    },
    transcode: transcode
      ? {
          is_transcoding: transcode.videoDecision === 'transcode' || transcode.audioDecision === 'transcode',
          speed: transcode.speed ?? 0,
          video_decision: transcode.videoDecision ?? 'copy',
          audio_decision: transcode.audioDecision ?? 'copy',
        }
      : { is_transcoding: false, speed: null, video_decision: null, audio_decision: null },
    stream: {
      video_resolution: media?.videoResolution || 'Unknown',
      video_codec: media?.videoCodec || 'Unknown',
      audio_codec: media?.audioCodec || 'Unknown',
      container: media?.container || 'Unknown',
      bitrate: media?.bitrate ?? 0,
      location: session.session?.location || 'wan',
      bandwidth: session.session?.bandwidth ?? 0,
    },
  }
}

/** `Show - S01E02 - Title` for an episode; live TV episodes have no season or number. */
export function mediaTitle(session: PlaybackSession): string {
  if (session.type !== 'episode' || !session.grandparentTitle) return session.title
  if (session.parentIndex === undefined || session.index === undefined)
    return `${session.grandparentTitle} - ${session.title}`
  return `${session.grandparentTitle} - S${pad2(session.parentIndex)}E${pad2(session.index)} - ${session.title}`
}

/** viewOffset / duration in %, two decimals; 0 without a duration. */
export function playbackProgress(session: Pick<PlaybackSession, 'viewOffset' | 'duration'>): number {
  const duration = session.duration ?? 0
  if (duration <= 0) return 0
  return Math.round(((session.viewOffset ?? 0) / duration) * 10_000) / 100
}

const pad2 = (n: number) => String(n).padStart(2, '0')
