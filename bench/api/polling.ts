// Simulated dashboards: N browser tabs of Komandorr's UI polling the Plex widgets, each tab
// with its own keep-alive connections, each timer at its own phase (tabs opened at
// different moments), firing on a fixed rate like setInterval (a slow answer does not
// delay the next poll).
import http from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { mulberry32 } from '../../sim/random.js'

export interface PolledEndpoint {
  /** Short name for tables. */
  readonly name: string
  readonly path: string
  readonly everyMs: number
  /** The cache behind it (`GET /api/plex/cache/stats` name). */
  readonly cache: string
}

/** What Komandorr's UI polls, and how often. */
export const KOMANDORR_POLLING: readonly PolledEndpoint[] = [
  { name: 'sessions', path: '/api/plex/sessions', everyMs: 5_000, cache: 'plex_sessions' },
  { name: 'activities', path: '/api/plex/activities', everyMs: 5_000, cache: 'plex_activities' },
  { name: 'stats/live', path: '/api/plex/stats/live', everyMs: 60_000, cache: 'plex_stats_live' },
  { name: 'users/count', path: '/api/plex/users/count', everyMs: 10_000, cache: 'plex_users_count' },
]

export interface PollSample {
  readonly endpoint: string
  /** When the request was sent, ms after the polling started. */
  readonly sentAtMs: number
  readonly latencyMs: number
  /** 0 when the request failed without an answer. */
  readonly status: number
  readonly xCache: string | undefined
}

export interface PollRun {
  readonly samples: PollSample[]
  /** performance.now() when polling started and when the last poll was sent. */
  readonly startedAt: number
  readonly durationMs: number
  /** Per endpoint: performance.now() of the last request sent. */
  readonly lastSentAt: Map<string, number>
  /** The polling process's own event-loop delay (ms): client-side lag inside every latency above. */
  readonly clientLoopDelayMs: { p50: number; p99: number; max: number }
}

export interface PollOptions {
  baseUrl: string
  clients: number
  durationMs: number
  seed: number
  endpoints?: readonly PolledEndpoint[]
  /** Called once every poll timer is set, with performance.now() of the start. */
  onStart?: (startedAt: number) => void
  /** A request without an answer after this long counts as failed. Default 30 s. */
  timeoutMs?: number
}

/** Like a browser: up to 6 keep-alive connections per tab. */
const SOCKETS_PER_TAB = 6

export async function pollLikeKomandorr(options: PollOptions): Promise<PollRun> {
  const endpoints = options.endpoints ?? KOMANDORR_POLLING
  const random = mulberry32(options.seed)
  const samples: PollSample[] = []
  const inFlight = new Set<Promise<void>>()
  const lastSentAt = new Map<string, number>()
  const agents = Array.from(
    { length: options.clients },
    () => new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_TAB }),
  )
  const timers: NodeJS.Timeout[] = []
  const loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const startedAt = performance.now()
  const url = new URL(options.baseUrl)

  const send = (agent: http.Agent, endpoint: PolledEndpoint) => {
    const sentAt = performance.now()
    lastSentAt.set(endpoint.name, sentAt)
    const done = request(url, endpoint.path, agent, options.timeoutMs ?? 30_000).then((answer) => {
      samples.push({
        endpoint: endpoint.name,
        sentAtMs: sentAt - startedAt,
        latencyMs: performance.now() - sentAt,
        ...answer,
      })
      inFlight.delete(done)
    })
    inFlight.add(done)
  }

  await new Promise<void>((resolve) => {
    for (const agent of agents) {
      for (const endpoint of endpoints) {
        const phase = random() * endpoint.everyMs
        // Each tick is set from the start time, so timer drift does not accumulate.
        const tick = (n: number) => {
          const at = phase + n * endpoint.everyMs
          if (at >= options.durationMs) return
          timers.push(
            setTimeout(
              () => {
                send(agent, endpoint)
                tick(n + 1)
              },
              Math.max(0, at - (performance.now() - startedAt)),
            ),
          )
        }
        tick(0)
      }
    }
    options.onStart?.(startedAt)
    timers.push(setTimeout(resolve, options.durationMs))
  })
  loopDelay.disable()
  while (inFlight.size > 0) await Promise.all([...inFlight])
  for (const timer of timers) clearTimeout(timer)
  for (const agent of agents) agent.destroy()
  // The histogram counts from its 1 ms sampling interval: what lies beyond it is the lag.
  const lag = (ns: number) => Math.max(0, ns / 1e6 - 1)
  const clientLoopDelayMs = {
    p50: lag(loopDelay.percentile(50)),
    p99: lag(loopDelay.percentile(99)),
    max: lag(loopDelay.max),
  }
  return { samples, startedAt, durationMs: options.durationMs, lastSentAt, clientLoopDelayMs }
}

function request(
  base: URL,
  path: string,
  agent: http.Agent,
  timeoutMs: number,
): Promise<{ status: number; xCache: string | undefined }> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: base.hostname, port: base.port, path, agent, headers: { accept: 'application/json' } },
      (res) => {
        res.on('data', () => {})
        res.on('end', () => resolve({ status: res.statusCode ?? 0, xCache: headerOf(res.headers['x-cache']) }))
        res.on('error', () => resolve({ status: 0, xCache: undefined }))
      },
    )
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve({ status: 0, xCache: undefined }))
  })
}

const headerOf = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)
