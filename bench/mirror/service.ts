// The service with its PMS mirror (PLEX_PROXY_PORT): `src/main.ts` in a child process, configured
// only through its environment, with a throw-away database.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startChild, type RunningChild } from '../support/child-process.js'

export interface MirrorUnderTest {
  /** The mirror's base URL (PLEX_PROXY_PORT). */
  readonly url: string
  /** The service's own API (PORT). */
  readonly apiUrl: string
  readonly process: RunningChild
  stop(): Promise<void>
}

export async function startMirrorService(settings: {
  readonly plexUrl: string
  readonly plexToken: string
  readonly env?: Record<string, string>
}): Promise<MirrorUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-bench-mirror-'))
  const child = await startChild({
    script: 'src/main.ts',
    cwd: dir,
    env: {
      HOST: '127.0.0.1',
      PORT: '0',
      PLEX_PROXY_PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_PATH: join(dir, 'komandorr.db'),
      PLEX_SERVER_URL: settings.plexUrl,
      PLEX_SERVER_TOKEN: settings.plexToken,
      PLEX_TV_URL: settings.plexUrl,
      ...settings.env,
    },
    // main.ts says where the mirror listens, then where the API does.
    ready: /"port":(\d+).*komandorr-cache is listening/,
  }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true })
    throw error
  })
  const mirrorPort = /"port":(\d+).*the PMS mirror is listening/.exec(child.tail())?.[1]
  if (mirrorPort === undefined) {
    await child.stop()
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`the service did not say where its mirror listens:\n${child.tail()}`)
  }
  return {
    url: `http://127.0.0.1:${mirrorPort}`,
    apiUrl: `http://127.0.0.1:${child.readyMatch}`,
    process: child,
    async stop() {
      await child.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Resolves once the service's first warm-up of the Plex caches has settled (`/api/health/ready`). */
export async function ready(service: MirrorUnderTest, timeoutMs = 60_000): Promise<void> {
  const until = performance.now() + timeoutMs
  while ((await fetch(`${service.apiUrl}/api/health/ready`)).status !== 200) {
    if (performance.now() > until) throw new Error(`the service was not ready within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The resident set of a process, from /proc (Linux), in bytes. */
export function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (match === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(match[1]) * 1024
}
