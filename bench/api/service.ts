// The service under test: `src/main.ts` in a child process, configured only through its
// environment (defaults everywhere but the Plex server, the port and a throw-away database).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChild, type RunningChild } from '../support/child-process.js'

export interface ServiceUnderTest {
  readonly url: string
  readonly process: RunningChild
  /** GET a JSON answer of the service. */
  getJson<T>(path: string): Promise<T>
  postJson<T>(path: string): Promise<T>
  stop(): Promise<void>
}

export interface ServiceSettings {
  plexUrl: string
  plexToken: string
  /** Extra environment variables (e.g. CACHE_WARM_IDLE). */
  env?: Record<string, string>
  /** Options for node itself (e.g. `--cpu-prof`). */
  nodeArgs?: string[]
}

/** One cache of `GET /api/plex/cache/stats`, the fields the benchmark reads. */
export interface CacheStatsRow {
  name: string
  hits: number
  misses: number
  coalesced: number
  refreshes: number
  loads: number
  errors: number
  stale_serves: number
  ttl_seconds: number
}

export async function startService(settings: ServiceSettings): Promise<ServiceUnderTest> {
  // Its own working directory: no `.env` of the checkout leaks into the measured configuration.
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-api-'))
  const child = await startChild({
    script: 'src/main.ts',
    nodeArgs: settings.nodeArgs,
    cwd: dir,
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_PATH: join(dir, 'komandorr.db'),
      PLEX_SERVER_URL: settings.plexUrl,
      PLEX_SERVER_TOKEN: settings.plexToken,
      // The simulator also answers plex.tv's shared_servers.
      PLEX_TV_URL: settings.plexUrl,
      ...settings.env,
    },
    ready: /"port":(\d+).*komandorr-cache is listening/,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw error
  })
  const url = `http://127.0.0.1:${child.readyMatch}`
  const call = async <T>(method: string, path: string): Promise<T> => {
    const res = await fetch(url + path, { method })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`)
    return JSON.parse(text) as T
  }
  return {
    url,
    process: child,
    getJson: (path) => call('GET', path),
    postJson: (path) => call('POST', path),
    async stop() {
      await child.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function cacheStats(service: ServiceUnderTest): Promise<Map<string, CacheStatsRow>> {
  const report = await service.getJson<{ caches: CacheStatsRow[] }>('/api/plex/cache/stats')
  return new Map(report.caches.map((row) => [row.name, row]))
}
