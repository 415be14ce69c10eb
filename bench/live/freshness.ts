// Freshness lag: the time from a change inside the simulator to the service's answer showing
// it. Each round makes five changes at one instant (a session starts, one pauses, one seeks,
// one stops, an activity progresses) and one watcher polls sessions and activities every 20 ms
// until each change shows, so a round costs at most one TTL even without notifications.
import type { RunningSimulator } from '../../sim/index.js'

export const CHANGE_KINDS = ['start', 'pause', 'seek', 'stop', 'activity progress'] as const
export type ChangeKind = (typeof CHANGE_KINDS)[number]

const POLL_MS = 20
/** A change not shown within this long counts as this long (and is reported as missed). */
const GIVE_UP_MS = 30_000

interface SessionView {
  session_id: string
  playback: { state: string; position_ms: number }
}
interface ActivityView {
  uuid: string
  progress: number
}

export interface FreshnessResult {
  rounds: number
  /** Lags in ms per kind of change. */
  lags: Record<ChangeKind, number[]>
  missed: number
}

export async function measureFreshness(
  sim: RunningSimulator,
  serviceUrl: string,
  rounds: number,
  random: () => number,
): Promise<FreshnessResult> {
  const control = sim.control
  const lags = Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, [] as number[]])) as Record<ChangeKind, number[]>
  let missed = 0
  const read = async () => {
    const [sessions, activities] = await Promise.all([
      fetch(`${serviceUrl}/api/plex/sessions`).then((r) => r.json() as Promise<{ sessions?: SessionView[] }>),
      fetch(`${serviceUrl}/api/plex/activities`).then((r) => r.json() as Promise<{ activities?: ActivityView[] }>),
    ])
    return { sessions: sessions.sessions ?? [], activities: activities.activities ?? [] }
  }
  const waitUntil = async (check: (view: Awaited<ReturnType<typeof read>>) => boolean) => {
    const deadline = performance.now() + GIVE_UP_MS
    while (performance.now() < deadline) {
      if (check(await read())) return
      await sleep(POLL_MS)
    }
    throw new Error('the service never showed the starting state')
  }

  for (let round = 0; round < rounds; round++) {
    // Three sessions playing and an activity with a known progress, all shown, before the changes.
    while (control.state().sessions.length < 3) control.startSession({ kind: 'movie', viewOffset: 60_000 })
    for (const s of control.state().sessions) if (s.state === 'paused') control.resumeSession(s.sessionKey)
    if (control.state().activities.length === 0)
      control.startActivity({ type: 'library.refresh.items', ticks: 60, progress: 0 })
    const [paused, seeked, stopped] = control.state().sessions.slice(0, 3)
    const activity = control.state().activities[0]!
    const before = {
      keys: control
        .state()
        .sessions.map((s) => s.sessionKey)
        .sort()
        .join(','),
      progress: activity.progress,
    }
    await waitUntil(
      (v) =>
        v.sessions
          .map((s) => s.session_id)
          .sort()
          .join(',') === before.keys && v.sessions.every((s) => s.playback.state === 'playing'),
    )
    // A random phase against the TTLs, so that TTL-only freshness is sampled fairly.
    await sleep(random() * 2_000)

    const seekTo = Math.round(60_000 + random() * 600_000)
    const changedAt = performance.now()
    const started = control.startSession({ kind: 'episode' })
    control.pauseSession(paused!.sessionKey)
    control.seekSession(seeked!.sessionKey, seekTo)
    control.stopSession(stopped!.sessionKey)
    control.advance(10) // one tick: the activity progresses (and every player reports)
    const progress = control.state().activities.find((a) => a.uuid === activity.uuid)?.progress
    const expectedPosition = control.state().sessions.find((s) => s.sessionKey === seeked!.sessionKey)!.viewOffset
    const shows: Record<ChangeKind, (v: Awaited<ReturnType<typeof read>>) => boolean> = {
      start: (v) => v.sessions.some((s) => s.session_id === started.sessionKey),
      pause: (v) => v.sessions.some((s) => s.session_id === paused!.sessionKey && s.playback.state === 'paused'),
      seek: (v) =>
        v.sessions.some((s) => s.session_id === seeked!.sessionKey && s.playback.position_ms === expectedPosition),
      stop: (v) => !v.sessions.some((s) => s.session_id === stopped!.sessionKey),
      'activity progress': (v) => v.activities.some((a) => a.uuid === activity.uuid && a.progress === progress),
    }
    const pending = new Set<ChangeKind>(CHANGE_KINDS)
    while (pending.size > 0 && performance.now() - changedAt < GIVE_UP_MS) {
      const view = await read()
      const at = performance.now()
      for (const kind of [...pending]) {
        if (shows[kind](view)) {
          lags[kind].push(at - changedAt)
          pending.delete(kind)
        }
      }
      if (pending.size > 0) await sleep(POLL_MS)
    }
    for (const kind of pending) {
      lags[kind].push(GIVE_UP_MS)
      missed++
    }
  }
  return { rounds, lags, missed }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
