// The app over a temporary SQLite file, with the simulator as its Plex server, for the tests of
// watch history, Plex stats, the dashboard and cache management.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../src/cache/index.js'
import type { RuntimeOptions } from '../../src/runtime.js'
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../sim/index.js'
import { sqliteOf, startTestApp, type TestApp } from '../api/harness.js'

export const SIM_TOKEN = 'history-stats-secret-token'

export interface PlexTestApp extends TestApp {
  readonly sim: RunningSimulator
  /** The service's clock (caches, jobs, stored times): moves only when told. */
  readonly clock: ManualClock
  readonly dbPath: string
  /** Counts of simulator requests per endpoint pattern since the last resetCounts(). */
  counts(): Record<string, number>
}

export interface PlexTestAppOptions {
  readonly env?: Record<string, string>
  readonly sim?: SimulatorOptions
  /** Start without a Plex server configured. */
  readonly withoutPlex?: boolean
  /** Default: a ManualClock at 2025-01-01 (wall time). */
  readonly clock?: ManualClock
  readonly runtime?: Omit<RuntimeOptions, 'clock'>
}

export async function startPlexTestApp(options: PlexTestAppOptions = {}): Promise<PlexTestApp> {
  const sim = await startSimulator({ port: 0, token: SIM_TOKEN, seed: 7, items: 300, speed: 0, liveSessions: false, ...options.sim })
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-history-stats-'))
  const dbPath = join(dir, 'komandorr.db')
  const clock = options.clock ?? new ManualClock()
  const plexEnv = options.withoutPlex ? {} : { PLEX_SERVER_URL: sim.url, PLEX_SERVER_TOKEN: sim.token, PLEX_TV_URL: sim.url }
  let app: TestApp
  try {
    app = await startTestApp({ DATABASE_PATH: dbPath, LOG_LEVEL: 'info', ...plexEnv, ...options.env }, { ...options.runtime, clock })
  } catch (error) {
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    ...app,
    sim,
    clock,
    dbPath,
    counts: () => sim.control.requestCounts(),
    async close() {
      await app.close()
      await sim.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Every text cell of every table of the database, for "no token stored anywhere" checks. */
export function everyStoredText(app: TestApp): string[] {
  const db = sqliteOf(app)
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
  const texts: string[] = []
  for (const { name } of tables) {
    for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Array<Record<string, unknown>>) {
      for (const value of Object.values(row)) if (typeof value === 'string') texts.push(`${name}: ${value}`)
    }
  }
  return texts
}
