import { Counter, Histogram, type Registry } from 'prom-client'
import type { Cache } from '../cache/index.js'
import type { LiveStatsValue } from '../features/caches/live-stats.js'
import type { SessionsValue } from '../features/caches/sessions.js'
import type { PlexCall } from '../plex/index.js'
import type { PlexConnection } from '../plex/plex-connection.js'
import { registerSnapshot, type Sample } from './snapshot-metric.js'

/** Seconds; a PMS answers in milliseconds, a big library page or plex.tv in seconds. */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Playback states PMS reports; anything else is counted as `other` (labels stay bounded). */
const SESSION_STATES = ['playing', 'paused', 'buffering', 'stopped'] as const

/** Failures that mean the PMS did not answer at all (an auth or HTTP error is an answer). */
const DOWN_OUTCOMES = new Set<PlexCall['outcome']>(['unreachable', 'timeout'])

export interface PlexMetricSources {
  readonly plex: PlexConnection
  readonly sessions: Cache<SessionsValue>
  readonly liveStats: Cache<LiveStatsValue>
}

/**
 * The `plex_*` metrics, named after the Plex exporters (axsuul/plex-media-server-exporter's
 * `plex_sessions_count{state}`, `plex_media_count{type}`, `plex_info`) so their dashboards need
 * few changes. Sessions and library counts are read from the values the caches hold: a scrape
 * never calls Plex. Labels are bounded sets: no titles, users, session ids, paths or URLs.
 * Returns the observer the Plex client reports each request to.
 */
export class PlexMetrics {
  private readonly requests: Counter<'endpoint' | 'outcome'>
  private readonly duration: Histogram<'endpoint'>
  /** 1 when the last PMS request got an answer, 0 when it did not; undefined before any. */
  private up: number | undefined

  constructor(private readonly registry: Registry) {
    this.requests = new Counter({
      name: 'plex_requests_total',
      help: 'Requests to Plex (PMS and plex.tv) by endpoint pattern and outcome (success, or the failure kind: auth, timeout, unreachable, http, response, aborted).',
      labelNames: ['endpoint', 'outcome'],
      registers: [registry],
    })
    this.duration = new Histogram({
      name: 'plex_request_duration_seconds',
      help: 'Duration of requests to Plex by endpoint pattern.',
      labelNames: ['endpoint'],
      buckets: CALL_BUCKETS,
      registers: [registry],
    })
  }

  /** For the Plex client: one finished request. */
  readonly observe = (call: PlexCall): void => {
    this.requests.inc({ endpoint: call.route, outcome: call.outcome })
    this.duration.observe({ endpoint: call.route }, call.durationMs / 1000)
    if (call.outcome !== 'aborted' && !call.route.startsWith('plex.tv') && call.route !== 'image (other host)') {
      this.up = DOWN_OUTCOMES.has(call.outcome) ? 0 : 1
    }
  }

  /** Registers the gauges read from the cached Plex state. */
  watch({ plex, sessions, liveStats }: PlexMetricSources): void {
    const registry = this.registry
    const gauge = (name: string, help: string, read: () => Sample[]) =>
      registerSnapshot(registry, { name, help, type: 'gauge', read })
    const held = () => sessions.held()?.sessions ?? []

    gauge(
      'plex_up',
      'The last request to the Plex Media Server got an answer (0 also while no server is configured).',
      () => {
        if (!plex.configured) return [{ labels: {}, value: 0 }]
        return this.up === undefined ? [] : [{ labels: {}, value: this.up }]
      },
    )
    gauge('plex_info', 'The Plex Media Server version, as last reported by /identity.', () => {
      const version = plex.configured ? plex.serverVersion : undefined
      return version === undefined ? [] : [{ labels: { version }, value: 1 }]
    })
    gauge('plex_sessions_count', 'Playback sessions by state, from the cached /status/sessions.', () =>
      byState(held(), () => true),
    )
    gauge('plex_video_transcode_sessions_count', 'Sessions transcoding video, by state.', () =>
      byState(held(), (s) => s.transcode.video_decision === 'transcode'),
    )
    gauge('plex_audio_transcode_sessions_count', 'Sessions transcoding audio, by state.', () =>
      byState(held(), (s) => s.transcode.audio_decision === 'transcode'),
    )
    gauge(
      'plex_direct_play_sessions_count',
      'Sessions transcoding neither video nor audio (direct play or direct stream), by state.',
      () => byState(held(), (s) => !s.transcode.is_transcoding),
    )
    gauge(
      'plex_sessions_bandwidth_kbps',
      'Bandwidth of the playback sessions (kbit/s, as PMS reports it) by network location.',
      () => {
        let lan = 0
        let wan = 0
        for (const session of held()) {
          if (session.stream.location === 'lan') lan += session.stream.bandwidth
          else wan += session.stream.bandwidth
        }
        return sessions.held() === undefined
          ? []
          : [
              { labels: { location: 'lan' }, value: lan },
              { labels: { location: 'wan' }, value: wan },
            ]
      },
    )
    gauge('plex_media_count', 'Library items by type, from the cached live statistics.', () => {
      const stats = liveStats.held()
      if (stats === undefined) return []
      return [
        { labels: { type: 'movie' }, value: stats.total_movies },
        { labels: { type: 'show' }, value: stats.total_tv_shows },
        { labels: { type: 'season' }, value: stats.total_seasons },
        { labels: { type: 'episode' }, value: stats.total_episodes },
      ]
    })
    gauge('plex_users_count', 'Users of the server (PMS /accounts), from the cached live statistics.', () => {
      const stats = liveStats.held()
      return stats === undefined ? [] : [{ labels: {}, value: stats.total_users }]
    })
  }
}

type SessionView = SessionsValue['sessions'][number]

function byState(sessions: readonly SessionView[], include: (session: SessionView) => boolean): Sample[] {
  const counts = new Map<string, number>([...SESSION_STATES, 'other'].map((state) => [state, 0]))
  for (const session of sessions) {
    if (!include(session)) continue
    const state = (SESSION_STATES as readonly string[]).includes(session.playback.state)
      ? session.playback.state
      : 'other'
    counts.set(state, counts.get(state)! + 1)
  }
  return [...counts].map(([state, value]) => ({ labels: { state }, value }))
}
