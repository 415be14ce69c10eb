// Starts /work/shared/plex-recorded/server.mjs (resolved as ../shared beside the repo root) as a
// child process on a free port, and keeps its one-line-per-request log for coverage checks.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'vitest'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const recordedDir = path.resolve(repoRoot, '../shared/plex-recorded')
export const recordedPresent = existsSync(path.join(recordedDir, 'server.mjs'))
// The kit runs only as the main module, which it judges by its real path: follow a linked shared/.
const serverScript = recordedPresent ? realpathSync(path.join(recordedDir, 'server.mjs')) : ''

/**
 * `describe` for tests that need the kit: outside CI they are skipped (with the reason in the
 * title) when it is absent; under CI=true they fail, saying where the kit was looked for.
 */
export function describeRecorded(title: string, body: () => void): void {
  if (recordedPresent) {
    describe(title, body)
  } else if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(title, () => {
      it('needs the plex-recorded kit', () => {
        throw new Error(
          `CI=true, but the plex-recorded kit is absent: no server.mjs in ${recordedDir} (a folder named shared/ beside the repository); put the kit there`,
        )
      })
    })
  } else {
    describe.skip(`${title} (skipped: the plex-recorded kit is absent from ${recordedDir})`, body)
  }
}

export interface LoggedRequest {
  method: string
  path: string
  status: number
  format: string
  /** The recording served (a file under data/), `none` for an empty container, `-` for errors. */
  source: string
}

export interface RecordedServer {
  url: string
  log: LoggedRequest[]
  counts(): Promise<Record<string, number>>
  resetCounts(): Promise<void>
  control(what: 'down' | 'up'): Promise<void>
  close(): Promise<void>
}

export async function startRecordedServer(token: string, extraArgs: string[] = []): Promise<RecordedServer> {
  const child: ChildProcess = spawn(process.execPath, [serverScript, '--port', '0', '--token', token, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const log: LoggedRequest[] = []
  const lines = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('plex-recorded server did not start within 10 s')), 10_000)
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += String(d)))
    child.once('exit', (code) => reject(new Error(`plex-recorded server exited with ${code}: ${stderr}`)))
    lines.once('line', (line) => {
      clearTimeout(timer)
      const m = /^listening on (http:\/\/\S+)$/.exec(line)
      if (m?.[1]) resolve(m[1])
      else reject(new Error(`unexpected first line from plex-recorded server: ${line}`))
    })
  })
  lines.on('line', (line) => {
    const [method = '', p = '', status = '0', format = '', , ...source] = line.split(' ')
    log.push({ method, path: p, status: Number(status), format, source: source.join(' ') })
  })
  return {
    url,
    log,
    async counts() {
      const res = await fetch(`${url}/__recorded/counts`)
      return ((await res.json()) as { paths: Record<string, number> }).paths
    },
    async resetCounts() {
      await fetch(`${url}/__recorded/reset`, { method: 'POST' })
    },
    async control(what) {
      await fetch(`${url}/__recorded/${what}`, { method: 'POST' })
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
