// The app wired to a running Plex simulator, for the live Plex endpoint tests (test/api/*).
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../sim/index.js'
import { startTestApp, type TestApp } from '../api/harness.js'

/** A Plex or API JSON object, asserted field by field (typing each would only repeat the assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Raw = Record<string, any>

/** `path` of the simulator as JSON, without going through the service (expected values come from here). */
export async function simJson(sim: RunningSimulator, path: string): Promise<Raw> {
  const response = await fetch(sim.url + path, { headers: { 'X-Plex-Token': sim.token, Accept: 'application/json' } })
  return ((await response.json()) as { MediaContainer: Raw }).MediaContainer
}

/** Long enough for the logger to hide it (it ignores secrets under 6 characters). */
export const PLEX_TOKEN = 'sim-secret-token-4242'

export interface PlexLiveSetup {
  readonly sim: RunningSimulator
  readonly app: TestApp
  /** GET (or any method) against the app, relative to its base URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

export interface PlexLiveOptions {
  /** Extra environment for the app (TTLs, auth...). */
  readonly env?: Record<string, string>
  readonly sim?: SimulatorOptions
  /** Point PLEX_SERVER_URL/TOKEN at the simulator. Default true. */
  readonly configured?: boolean
}

/**
 * A simulator with a frozen clock and no sessions of its own (tests start what they need), and the
 * app with the simulator as its Plex server and as plex.tv.
 */
export async function startPlexLive(options: PlexLiveOptions = {}): Promise<PlexLiveSetup> {
  const sim = await startSimulator({ port: 0, token: PLEX_TOKEN, seed: 1, items: 300, speed: 0, liveSessions: false, ...options.sim })
  const plexEnv: Record<string, string> =
    options.configured === false ? { PLEX_TV_URL: sim.url } : { PLEX_SERVER_URL: sim.url, PLEX_SERVER_TOKEN: sim.token, PLEX_TV_URL: sim.url }
  let app: TestApp
  try {
    app = await startTestApp({ LOG_LEVEL: 'info', ...plexEnv, ...options.env })
  } catch (error) {
    await sim.close()
    throw error
  }
  return {
    sim,
    app,
    fetch: (path, init) => fetch(app.url + path, init),
    async close() {
      await app.close()
      await sim.close()
    },
  }
}

/** Polls `check` until it returns true, or fails after `timeoutMs` naming `what`. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Requests the simulator counted for endpoint patterns containing `fragment`. */
export function countOf(sim: RunningSimulator, fragment: string): number {
  let total = 0
  for (const [endpoint, n] of Object.entries(sim.control.requestCounts())) if (endpoint.includes(fragment)) total += n
  return total
}
