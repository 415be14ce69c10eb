// Runs the real entry point (src/main.ts) in a child process, as `npm run dev` would.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, it } from 'vitest'
import { json, jsonInit, startTarget } from '../support/api-harness.js'
import { eventually, sleep } from '../support/eventually.js'

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

interface Child {
  readonly process: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<{ code: number | null; at: number }>
}

function startMain(cwd: string, env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      MONITOR_INTERVAL: '3600',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: Date.now() })),
  )
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited }
}

async function listeningUrl(child: Child): Promise<string> {
  const started = Date.now()
  for (;;) {
    const line = child
      .stdout()
      .split('\n')
      .find((l) => l.includes('komandorr-cache is listening'))
    if (line) return `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`
    if (child.process.exitCode !== null) throw new Error(`main exited early: ${child.stderr()}`)
    if (Date.now() - started > 15_000) throw new Error(`main did not start: ${child.stdout()} ${child.stderr()}`)
    await sleep(25)
  }
}

/** A temp folder and a monitored service whose answer delay the test sets; removed after the test. */
async function setUp(onTestFinished: (cleanup: () => Promise<void> | void) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'komandorr-main-'))
  const slowness = { delayMs: 0 }
  const target = await startTarget(async (_req, res) => {
    await sleep(slowness.delayMs)
    if (!res.destroyed) res.writeHead(200).end('ok')
  })
  const children: Child[] = []
  onTestFinished(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL')
    await target.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const launch = (env: Record<string, string> = {}) => {
    const child = startMain(dir, { DATABASE_PATH: join(dir, 'data', 'komandorr.db'), ...env })
    children.push(child)
    return child
  }
  return { dir, target, slowness, launch }
}

// Concurrent: each test waits mostly on a child starting up or a slow answer.
describe.concurrent('main lifecycle', () => {
  it('on SIGTERM finishes the request in flight, then exits 0 within 5 s with the database closed', async ({
    expect,
    onTestFinished,
  }) => {
    const { dir, target, slowness, launch } = await setUp(onTestFinished)
    const child = launch()
    const url = await listeningUrl(child)
    expect(child.stdout()).toContain('PLEX_SERVER_URL')
    expect(child.stdout()).toContain('npm run demo')

    const { id } = await json(
      await fetch(`${url}/api/services/`, jsonInit('POST', { name: 'Slow', url: target.url, type: 'app' })),
    )
    // POST checks the new service in the background.
    let created = await json(await fetch(`${url}/api/services/${id}`))
    while (created.last_check === null) {
      await sleep(20)
      created = await json(await fetch(`${url}/api/services/${id}`))
    }
    expect(created.status).toBe('online')

    slowness.delayMs = 1_500
    const seen = target.requests
    const inFlight = fetch(`${url}/api/services/${created.id}/check`, { method: 'POST' })
    await eventually('the check to reach the slow service', () => target.requests > seen)
    const signalledAt = Date.now()
    child.process.kill('SIGTERM')

    const response = await inFlight
    expect(response.status).toBe(200)
    const checked = await json(response)
    expect(checked.status).toBe('online')
    expect(checked.last_check > created.last_check).toBe(true)

    const { code, at } = await child.exited
    expect(code, child.stdout()).toBe(0)
    expect(at - signalledAt).toBeLessThan(5_000)
    expect(child.stdout()).toContain('"msg":"stopped"')

    const dbPath = join(dir, 'data', 'komandorr.db')
    expect(existsSync(`${dbPath}-wal`)).toBe(false)
    const db = new Database(dbPath, { readonly: true })
    const row = db.prepare('SELECT last_check FROM services WHERE id = ?').get(created.id) as { last_check: number }
    db.close()
    expect(new Date(row.last_check).toISOString()).toBe(checked.last_check)
  })

  it('exits at once on a second signal', async ({ expect, onTestFinished }) => {
    const { target, slowness, launch } = await setUp(onTestFinished)
    const child = launch()
    const url = await listeningUrl(child)
    const created = await json(
      await fetch(`${url}/api/services/`, jsonInit('POST', { name: 'Slow', url: target.url, type: 'app' })),
    )
    slowness.delayMs = 4_000
    const seen = target.requests
    const hanging = fetch(`${url}/api/services/${created.id}/check`, { method: 'POST' }).catch(() => 'dropped')
    await eventually('the check to reach the slow service', () => target.requests > seen)
    child.process.kill('SIGTERM')
    await eventually('the first signal to be handled', () => child.stdout().includes('shutting down'))
    const secondAt = Date.now()
    child.process.kill('SIGTERM')
    const { code, at } = await child.exited
    expect(code, child.stdout()).toBe(1)
    expect(child.stdout()).toContain('second signal: exiting without waiting')
    // Well before the 5 s shutdown deadline (counted from the first signal) could have fired.
    expect(at - secondAt).toBeLessThan(3_000)
    expect(await hanging).toBe('dropped')
  })

  it('reads .env without overriding the real environment, and stops on bad values with one line', async ({
    expect,
    onTestFinished,
  }) => {
    const { dir } = await setUp(onTestFinished)
    writeFileSync(join(dir, '.env'), 'CACHE_STATS_TTL=soon\nCACHE_LIVE_STATS_TTL=never\n')
    const child = startMain(dir, {
      DATABASE_PATH: join(dir, 'k.db'),
      CACHE_SESSIONS_TTL: 'abc',
      CACHE_LIVE_STATS_TTL: '30',
    })
    const { code } = await child.exited
    expect(code).toBe(1)
    expect(child.stderr().trim().split('\n')).toEqual([
      'komandorr-cache: CACHE_SESSIONS_TTL="abc" is not a number of seconds (a positive integer); CACHE_STATS_TTL="soon" is not a number of seconds (a positive integer)',
    ])
    expect(existsSync(join(dir, 'k.db'))).toBe(false)
  })
})
