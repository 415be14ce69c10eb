// The mirror's tests: the recorded PMS (../shared/plex-recorded, real published PMS answers) as
// the Plex server, and the service with PLEX_PROXY_PORT listening in front of it.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, startChild, type RunningChild } from '../../bench/support/child-process.js'
import { type TestApp, startService } from '../support/api-harness.js'

export const RECORDED_TOKEN = 'recorded-server-token-77'

/** The recorded-PMS kit: PLEX_RECORDED_DIR, else ../shared/plex-recorded beside the checkout (or beside its worktree folder). */
export function recordedDir(): string {
  const candidates = [
    process.env.PLEX_RECORDED_DIR,
    join(ROOT, '..', 'shared', 'plex-recorded'),
    join(ROOT, '..', '..', 'shared', 'plex-recorded'),
  ].filter((dir): dir is string => dir !== undefined)
  const found = candidates.find((dir) => existsSync(join(dir, 'server.mjs')))
  if (found === undefined)
    throw new Error(`the recorded PMS kit is missing: looked in ${candidates.join(', ')}; set PLEX_RECORDED_DIR`)
  return found
}

export interface RecordedPms {
  readonly url: string
  readonly child: RunningChild
  /** PMS calls per path since the last reset. */
  counts(): Promise<Record<string, number>>
  control(action: 'reset' | 'down' | 'up' | 'notify', body?: unknown): Promise<unknown>
  close(): Promise<void>
}

export async function startRecordedPms(extraArgs: string[] = []): Promise<RecordedPms> {
  const child = await startChild({
    command: process.execPath,
    args: [join(recordedDir(), 'server.mjs'), '--port', '0', '--token', RECORDED_TOKEN, ...extraArgs],
    ready: /^listening on (http:\/\/\S+)/,
  })
  const url = child.readyMatch
  return {
    url,
    child,
    async counts() {
      const res = await fetch(`${url}/__recorded/counts`)
      return ((await res.json()) as { paths: Record<string, number> }).paths
    },
    async control(action, body) {
      const res = await fetch(`${url}/__recorded/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return res.json().catch(() => undefined)
    },
    close: async () => void (await child.stop()),
  }
}

export interface MirrorApp {
  readonly app: TestApp
  /** The mirror's base URL. */
  readonly url: string
  close(): Promise<void>
}

/** The service on the recorded PMS with its mirror listening; `jobs` starts the notification stream. */
export async function startMirror(
  pmsUrl: string,
  options: { readonly env?: Record<string, string>; readonly jobs?: boolean } = {},
): Promise<MirrorApp> {
  const app = await startService({
    env: {
      LOG_LEVEL: 'warn',
      PLEX_SERVER_URL: pmsUrl,
      PLEX_SERVER_TOKEN: RECORDED_TOKEN,
      PLEX_PROXY_PORT: '0',
      ...options.env,
    },
  })
  const mirror = app.runtime.mirror
  if (mirror === undefined) throw new Error('PLEX_PROXY_PORT is set but the runtime has no mirror')
  const port = await mirror.listen(0, '127.0.0.1')
  if (options.jobs === true) app.runtime.push.start()
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.runtime.push.stop()
      await app.close()
    },
  }
}

/** status, content type and body bytes of an answer. */
export async function answerOf(res: Response): Promise<{ status: number; type: string | null; body: Buffer }> {
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) }
}
