// Drives a built Komandorr frontend over every page in headless Chromium and counts, per page,
// the failed requests (network errors and HTTP answers >= 400) and the console errors.
//
//   npx tsx scripts/drive-frontend.ts <frontend/dist> [--auth] [--seconds N] [--url http://host:port]
//
// Without --url it starts the Plex simulator and the service (FRONTEND_DIR=<dist>, throwaway
// database) on free ports, adds a service with a traffic and a storage report, and stops them at
// the end. With --url it drives a service already serving that frontend. --auth turns ENABLE_AUTH
// on and signs the frontend in. Exits 1 when any page had a failed request or a console error.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { loadConfig } from '../src/config.js'
import { CACHES } from '../src/features/caches/index.js'
import { buildApp } from '../src/http/app.js'
import { appDeps } from '../src/http/routes/index.js'
import { createRuntime } from '../src/runtime.js'
import { startSimulator } from '../sim/index.js'
import { FRONTEND_PAGES } from '../test/support/komandorr-frontend-routes.js'

const args = process.argv.slice(2)
const option = (name: string) => {
  const at = args.indexOf(name)
  return at < 0 ? undefined : args[at + 1]
}
const dist = args.find(
  (arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--url') && !args[i - 1]?.startsWith('--seconds'),
)
if (dist === undefined && option('--url') === undefined) {
  console.error('usage: npx tsx scripts/drive-frontend.ts <frontend/dist> [--auth] [--seconds N] [--url URL]')
  process.exit(2)
}
const auth = args.includes('--auth') ? { username: 'admin', password: 'drive-frontend-pw' } : undefined
const seconds = Number(option('--seconds') ?? 12)
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const cleanups: Array<() => Promise<unknown> | void> = []
let base = option('--url')
if (base === undefined) {
  const sim = await startSimulator({ port: 0, liveSessions: true, speed: 1, startTime: Math.floor(Date.now() / 1000) })
  cleanups.push(() => sim.close())
  const dataDir = mkdtempSync(join(tmpdir(), 'komandorr-drive-'))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const config = loadConfig(
    {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      PLEX_SERVER_URL: sim.url,
      PLEX_SERVER_TOKEN: sim.token,
      PLEX_TV_URL: sim.url,
      DATABASE_PATH: join(dataDir, 'komandorr.db'),
      FRONTEND_DIR: resolve(dist!),
      ...(auth ? { ENABLE_AUTH: 'true', AUTH_USERNAME: auth.username, AUTH_PASSWORD: auth.password } : {}),
    },
    CACHES,
  )
  const runtime = await createRuntime(config)
  const app = buildApp(appDeps(runtime))
  await app.listen({ host: '127.0.0.1', port: 0 })
  runtime.startJobs()
  cleanups.unshift(async () => {
    await app.close()
    await runtime.close()
  })
  const address = app.server.address()
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  await seed(base, `${sim.url}/identity`)
}

async function seed(url: string, monitored: string): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  const post = async (path: string, body: unknown) => {
    const response = await fetch(url + path, { method: 'POST', headers, body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`)
    return response.json() as Promise<{ id?: string }>
  }
  const service = await post('/api/services/', { name: 'Simulated Plex', url: monitored, type: 'app' })
  const report = { service_id: service.id, bandwidth_up: 1.5, bandwidth_down: 12, total_up: 10, total_down: 90 }
  await post('/api/traffic/update', report)
  await post('/api/storage/update', {
    service_id: service.id,
    hostname: 'media',
    timestamp: new Date().toISOString(),
    storage_paths: [{ path: '/mnt/unionfs', total: 1000, used: 400, free: 600, percent: 40 }],
  })
}

interface PageCount {
  readonly page: string
  readonly requests: number
  readonly failed: string[]
  readonly consoleErrors: string[]
  /** Messages received over WebSockets (the Dashboard's traffic feed). */
  socketMessages: number
}

async function drive(page: Page, path: string): Promise<PageCount> {
  const count: PageCount = { page: path, requests: 0, failed: [], consoleErrors: [], socketMessages: 0 }
  const onRequest = () => void (count as { requests: number }).requests++
  const onFailed = (request: import('playwright-core').Request) =>
    count.failed.push(`${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`)
  const onResponse = (response: import('playwright-core').Response) => {
    if (response.status() >= 400)
      count.failed.push(`${response.request().method()} ${response.url()} ${response.status()}`)
  }
  const onConsole = (message: import('playwright-core').ConsoleMessage) => {
    if (message.type() === 'error') count.consoleErrors.push(message.text().slice(0, 300))
  }
  const onPageError = (error: Error) => count.consoleErrors.push(`pageerror: ${error.message.slice(0, 300)}`)
  const onSocket = (socket: import('playwright-core').WebSocket) => {
    socket.on('framereceived', () => void count.socketMessages++)
    socket.on('socketerror', (error) => count.failed.push(`WebSocket ${socket.url()} ${error}`))
  }
  page.on('websocket', onSocket)
  page.on('request', onRequest)
  page.on('requestfailed', onFailed)
  page.on('response', onResponse)
  page.on('console', onConsole)
  page.on('pageerror', onPageError)
  await page.goto(base + path, { waitUntil: 'load' })
  await page.waitForTimeout(seconds * 1000)
  page.off('websocket', onSocket)
  page.off('request', onRequest)
  page.off('requestfailed', onFailed)
  page.off('response', onResponse)
  page.off('console', onConsole)
  page.off('pageerror', onPageError)
  // Leave the page before the next one counts: its polls in flight are aborted here, not there.
  await page.goto('about:blank')
  return count
}

const profile = mkdtempSync(join(tmpdir(), 'komandorr-chromium-'))
cleanups.push(() => rmSync(profile, { recursive: true, force: true }))
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  viewport: { width: 1400, height: 1000 },
})
cleanups.unshift(() => browser.close())
// The frontend keeps its login in sessionStorage: put it there before any page runs.
if (auth) {
  const credentials = Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
  await browser.addInitScript((value) => {
    const storage = (globalThis as unknown as { sessionStorage: { setItem(key: string, value: string): void } })
      .sessionStorage
    storage.setItem('auth_credentials', value)
  }, credentials)
}

let bad = 0
try {
  const page = browser.pages()[0] ?? (await browser.newPage())
  for (const path of FRONTEND_PAGES) {
    const count = await drive(page, path)
    bad += count.failed.length + count.consoleErrors.length
    console.log(
      `${path.padEnd(20)} requests ${String(count.requests).padStart(4)}  failed ${count.failed.length}  console errors ${count.consoleErrors.length}` +
        (count.socketMessages > 0 ? `  websocket messages ${count.socketMessages}` : ''),
    )
    for (const line of [...count.failed, ...count.consoleErrors]) console.log(`    ${line}`)
  }
} finally {
  for (const cleanup of cleanups) await cleanup()
}
process.exit(bad === 0 ? 0 : 1)
