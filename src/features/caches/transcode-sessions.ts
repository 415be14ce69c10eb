import type { TranscodeSession } from '../../plex/index.js'
import { nullable, object } from '../../json-schema.js'
import { declareCache, patchOn, plexListRoute, refreshOn, type PlexChange, type PlexList } from './declaration.js'

/** One entry of `GET /api/plex/transcode/sessions`: a transcode PMS runs now, fields as PMS names them in snake_case. */
export interface TranscodeSessionView {
  key: string | null
  throttled: boolean | null
  complete: boolean | null
  /** 0..100 */
  progress: number | null
  speed: number | null
  /** ms */
  duration: number | null
  /** Seconds left, as PMS estimates them. */
  remaining: number | null
  context: string | null
  source_video_codec: string | null
  source_audio_codec: string | null
  video_decision: string | null
  audio_decision: string | null
  protocol: string | null
  container: string | null
  video_codec: string | null
  audio_codec: string | null
  width: number | null
  height: number | null
  transcode_hw_requested: boolean | null
  transcode_hw_full_pipeline: boolean | null
}

export type TranscodeSessionsValue = PlexList<'transcode_sessions', TranscodeSessionView>

/**
 * `plex_transcode_sessions`: PMS `/transcode/sessions`. A progress report (`update`, about every
 * 10 s per transcode) carries the whole TranscodeSession and is patched in; a start or an end
 * reloads.
 */
export const transcodeSessionsCache = declareCache<TranscodeSessionsValue>({
  name: 'plex_transcode_sessions',
  key: 'plex:transcode_sessions',
  ttl: { env: 'CACHE_TRANSCODE_SESSIONS_TTL', defaultSeconds: 10 },
  plexServer: 'fetched',
  push: [
    patchOn<TranscodeSessionsValue>(['transcodeSession.update'], patchTranscodes),
    refreshOn('transcodeSession.start', 'transcodeSession.end'),
  ],
  routes: [
    plexListRoute(
      '/api/plex/transcode/sessions',
      'Plex transcode sessions',
      'transcode_sessions',
      'The transcodes PMS runs now (cached: plex_transcode_sessions)',
      transcodeSessionSchema(),
    ),
  ],
  async load({ plex }, _args, signal) {
    const views = (await plex.client().transcodeSessions(signal)).map(transcodeSessionView)
    return { error: false, transcode_sessions: views, total: views.length }
  },
})

/**
 * `transcodeSession.update` carries the TranscodeSession as `/transcode/sessions` lists it: the
 * entry with its key is replaced by it, in place, as a reload would give it. Undefined (reload)
 * for a key the value does not hold: an update that overtook its start, or one missed.
 */
function patchTranscodes(value: TranscodeSessionsValue, change: PlexChange): TranscodeSessionsValue | undefined {
  if (change.name !== 'transcodeSession.update') return undefined
  let transcodes = value.transcode_sessions
  for (const session of change.sessions) {
    const i = session.key === undefined ? -1 : transcodes.findIndex((view) => view.key === session.key)
    if (i < 0) return undefined
    if (transcodes === value.transcode_sessions) transcodes = [...transcodes]
    transcodes[i] = transcodeSessionView(session)
  }
  return transcodes === value.transcode_sessions ? value : { ...value, transcode_sessions: transcodes }
}

export function transcodeSessionView(t: TranscodeSession): TranscodeSessionView {
  return {
    key: t.key ?? null,
    throttled: t.throttled ?? null,
    complete: t.complete ?? null,
    progress: t.progress ?? null,
    speed: t.speed ?? null,
    duration: t.duration ?? null,
    remaining: t.remaining ?? null,
    context: t.context ?? null,
    source_video_codec: t.sourceVideoCodec ?? null,
    source_audio_codec: t.sourceAudioCodec ?? null,
    video_decision: t.videoDecision ?? null,
    audio_decision: t.audioDecision ?? null,
    protocol: t.protocol ?? null,
    container: t.container ?? null,
    video_codec: t.videoCodec ?? null,
    audio_codec: t.audioCodec ?? null,
    width: t.width ?? null,
    height: t.height ?? null,
    transcode_hw_requested: t.transcodeHwRequested ?? null,
    transcode_hw_full_pipeline: t.transcodeHwFullPipeline ?? null,
  }
}

function transcodeSessionSchema() {
  return object({
    key: nullable('string'),
    throttled: nullable('boolean'),
    complete: nullable('boolean'),
    progress: nullable('number'),
    speed: nullable('number'),
    duration: nullable('number'),
    remaining: nullable('number'),
    context: nullable('string'),
    source_video_codec: nullable('string'),
    source_audio_codec: nullable('string'),
    video_decision: nullable('string'),
    audio_decision: nullable('string'),
    protocol: nullable('string'),
    container: nullable('string'),
    video_codec: nullable('string'),
    audio_codec: nullable('string'),
    width: nullable('number'),
    height: nullable('number'),
    transcode_hw_requested: nullable('boolean'),
    transcode_hw_full_pipeline: nullable('boolean'),
  })
}
