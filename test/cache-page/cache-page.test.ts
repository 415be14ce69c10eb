import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { type TestApp, startService } from '../support/api-harness.js'
import { sleep } from '../support/eventually.js'

/** Debian's chromium (`npm test` installs it), driven headless with a throw-away profile. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const TOKEN = 'cache-page-token-4242'
const AUTH = { username: 'admin', password: 'pw-cache-page-1' }

let sim: RunningSimulator | undefined
let app: TestApp | undefined
let browser: BrowserContext | undefined
let profile: string | undefined
afterEach(async () => {
  await browser?.close()
  await app?.close()
  await sim?.close()
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  browser = app = sim = profile = undefined
})

async function openBrowser(): Promise<BrowserContext> {
  profile = mkdtempSync(join(tmpdir(), 'komandorr-chromium-'))
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    httpCredentials: AUTH,
    viewport: { width: 1400, height: 1000 },
  })
}

describe('GET /cache (headless Chromium)', () => {
  it('loads behind auth with no console error, plots live samples, and Warm changes the numbers', async () => {
    sim = await startSimulator({ port: 0, token: TOKEN, seed: 2, items: 200, speed: 0, liveSessions: false })
    app = await startService({
      env: {
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: TOKEN,
        PLEX_TV_URL: sim.url,
        LOG_LEVEL: 'info',
        ENABLE_AUTH: 'true',
        AUTH_USERNAME: AUTH.username,
        AUTH_PASSWORD: AUTH.password,
      },
      runtime: { cacheHistoryIntervalMs: 250 },
    })
    const url = app.url
    const authorization = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`
    expect((await fetch(`${url}/cache`)).status).toBe(401)

    sim.control.startSession({ kind: 'movie', transcode: true })
    // Reads spread over a few samples, so the plots have rates to draw.
    for (let i = 0; i < 6; i++) {
      for (const path of ['/api/plex/sessions', '/api/plex/activities', '/api/plex/stats/live'])
        await fetch(url + path, { headers: { authorization } })
      await sleep(150)
    }

    browser = await openBrowser()
    const page = browser.pages()[0] ?? (await browser.newPage())
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))

    const response = await page.goto(`${url}/cache`)
    expect(response?.status()).toBe(200)
    // Polled from the test, not with waitForFunction: its predicate is evaluated in the page, which the page's CSP (no unsafe-eval) refuses.
    await expect
      .poll(async () => Number((await page.getAttribute('#plot-calls', 'data-points')) ?? 0), { timeout: 15_000 })
      .toBeGreaterThan(0)
    for (const id of ['plot-hit-rate', 'plot-calls', 'plot-load']) {
      const points = Number(await page.getAttribute(`#${id}`, 'data-points'))
      expect(points, id).toBeGreaterThan(0)
      expect(await page.locator(`#${id} canvas`).count(), id).toBe(1)
    }
    const rows = page.locator('#caches tbody tr')
    const rowNames = await Promise.all((await rows.all()).map((row) => row.getAttribute('data-cache')))
    expect(rowNames).toEqual(expect.arrayContaining(['plex_sessions', 'plex_activities', 'watch_history']))

    // Health from the reads of the last five minutes, its reason on hover.
    const health = page.locator('tr[data-cache="plex_sessions"] td.health')
    expect(await health.textContent()).toMatch(/^(good|fair|poor|idle)$/)
    expect(await health.getAttribute('title')).toMatch(/reads? over the last|hit rate/)
    const loadsCell = page.locator('tr[data-cache="plex_sessions"] td.loads')
    const loadsBefore = Number((await loadsCell.textContent())!.replace(/\D.*$/, ''))
    expect(loadsBefore).toBeGreaterThanOrEqual(1)
    await page.click('#warm')
    await expect.poll(() => page.textContent('#message'), { timeout: 15_000 }).toMatch(/Reloaded/)
    await expect
      .poll(async () => Number((await loadsCell.textContent())!.replace(/\D.*$/, '')), { timeout: 10_000 })
      .toBeGreaterThan(loadsBefore)

    await page.click('#clear')
    await expect.poll(() => page.textContent('#message'), { timeout: 15_000 }).toMatch(/Cleared/)
    await expect
      .poll(() => page.locator('tr[data-cache="plex_sessions"] td.entries').textContent(), { timeout: 10_000 })
      .toBe('0')

    if (process.env.CACHE_PAGE_SCREENSHOT)
      await page.screenshot({ path: process.env.CACHE_PAGE_SCREENSHOT, fullPage: true })
    expect(problems).toEqual([])
    // Chromium's start alone takes seconds on a busy machine.
  }, 90_000)

  it('opened on a fresh service, spans the last 15 minutes until samples arrive', async () => {
    sim = await startSimulator({ port: 0, token: TOKEN, seed: 2, items: 50, speed: 0, liveSessions: false })
    // One sample at start, the next in ten minutes: the page opens on a single sample.
    app = await startService({
      env: {
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: TOKEN,
        PLEX_TV_URL: sim.url,
        ENABLE_AUTH: 'true',
        AUTH_USERNAME: AUTH.username,
        AUTH_PASSWORD: AUTH.password,
      },
      runtime: { cacheHistoryIntervalMs: 600_000 },
    })
    browser = await openBrowser()
    const page = browser.pages()[0] ?? (await browser.newPage())
    expect((await page.goto(`${app.url}/cache`))?.status()).toBe(200)
    await expect.poll(() => page.getAttribute('#plot-calls', 'data-x-to'), { timeout: 15_000 }).not.toBeNull()
    const nowS = Date.now() / 1000
    for (const id of ['plot-hit-rate', 'plot-calls', 'plot-load', 'plot-stale']) {
      const from = Number(await page.getAttribute(`#${id}`, 'data-x-from'))
      const to = Number(await page.getAttribute(`#${id}`, 'data-x-to'))
      expect(to - from, id).toBe(15 * 60)
      expect(Math.abs(to - nowS), id).toBeLessThan(60)
    }
  }, 90_000)
})
