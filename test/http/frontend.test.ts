// FRONTEND_DIR: a fixture of Komandorr's `frontend/dist` made here, served by the real app over
// real HTTP. Traversal attempts go through node:http, which (unlike fetch) sends the path as written.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../../bench/support/child-process.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import { CACHES } from '../../src/features/caches/index.js'
import { basic, json, type TestApp, startService } from '../support/api-harness.js'

const INDEX = '<!doctype html><title>Komandorr Dashboard</title><div id="root"></div>'
const ASSET = '/assets/index-B1x9Kq2Z.js'
const SECRET = 'outside-the-dist-0451'
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }

let base: string
let dist: string

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'frontend-'))
  dist = join(base, 'dist')
  mkdirSync(join(dist, 'assets'), { recursive: true })
  mkdirSync(join(dist, 'icons'))
  writeFileSync(join(dist, 'index.html'), INDEX)
  writeFileSync(join(dist, ASSET), 'console.log("komandorr")')
  writeFileSync(join(dist, 'icons', 'plex.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  writeFileSync(join(dist, 'release.txt'), 'v2.4.0')
  writeFileSync(join(dist, '.env'), `TOKEN=${SECRET}`)
  writeFileSync(join(base, 'secret.txt'), SECRET)
})

afterAll(() => rmSync(base, { recursive: true, force: true }))

/** A GET whose path is sent byte for byte as given. */
function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { path, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('FRONTEND_DIR served', () => {
  let t: TestApp

  beforeAll(async () => {
    t = await startService({
      env: {
        FRONTEND_DIR: dist,
        ENABLE_AUTH: 'true',
        AUTH_USERNAME: 'admin',
        AUTH_PASSWORD: 'pw',
        METRICS_PUBLIC: 'true',
      },
    })
  })
  afterAll(() => t.close())

  it('serves index.html at / without credentials, revalidated on every use', async () => {
    const response = await fetch(`${t.url}/`, { headers: HTML })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    expect(response.headers.get('cache-control')).toBe('no-cache')
    expect(await response.text()).toBe(INDEX)
  })

  it('serves hashed assets as immutable and the other files with no-cache', async () => {
    const asset = await fetch(`${t.url}${ASSET}`)
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toMatch(/javascript/)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await asset.text()).toBe('console.log("komandorr")')

    const icon = await fetch(`${t.url}/icons/plex.svg`)
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/)
    expect(icon.headers.get('cache-control')).toBe('no-cache')
    expect(await (await fetch(`${t.url}/release.txt?v=1`)).text()).toBe('v2.4.0')
  })

  // node:http, as fetch adds `cache-control: no-cache` to a conditional request, which forbids a 304.
  it('answers a matching If-None-Match with 304', async () => {
    const first = await rawGet(t.url, ASSET)
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^W\/"/)
    const again = await rawGet(t.url, ASSET, { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(again.body).toBe('')
  })

  it('falls back to index.html for client-side routes a browser navigates to', async () => {
    for (const path of ['/services', '/invite/Ab12', '/vod-activity/', '/assets']) {
      const response = await fetch(`${t.url}${path}`, { headers: HTML })
      expect(response.status, path).toBe(200)
      expect(response.headers.get('cache-control'), path).toBe('no-cache')
      expect(await response.text(), path).toBe(INDEX)
    }
    const head = await fetch(`${t.url}/monitor`, { method: 'HEAD', headers: HTML })
    expect(head.status).toBe(200)
  })

  it('answers a missing file a script or image asks for with a JSON 404, not the page', async () => {
    const response = await fetch(`${t.url}/assets/gone-C0ffee12.js`, { headers: { accept: '*/*' } })
    expect(response.status).toBe(404)
    expect((await json(response)).detail).toMatch(/^Not found: GET \/assets\/gone-C0ffee12\.js/)
  })

  it('never shadows API paths or the service own pages: unknown ones stay JSON 404s, known ones answer', async () => {
    for (const path of ['/api/nope', '/api/uploader/nope', '/__sim/faults']) {
      const response = await fetch(`${t.url}${path}`, { headers: HTML })
      expect(response.status, path).toBe(404)
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/)
      expect((await json(response)).detail, path).toMatch(/^Not found/)
    }
    // The service's own pages answer themselves (here: they want credentials), never with the frontend.
    for (const path of ['/openapi.json', '/docs', '/cache']) {
      const response = await fetch(`${t.url}${path}`, { headers: HTML })
      expect(response.status, path).toBe(401)
      expect(await response.text(), path).not.toBe(INDEX)
    }
    const metrics = await fetch(`${t.url}/metrics`, { headers: HTML })
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await metrics.text()).toMatch(/^# HELP /m)
    expect((await fetch(`${t.url}/api/health`)).headers.get('content-type')).toMatch(/^application\/json/)
    // The frontend is open; the API behind it still wants credentials.
    expect((await fetch(`${t.url}/api/services/`)).status).toBe(401)
    expect((await fetch(`${t.url}/api/services/`, { headers: basic('admin', 'pw') })).status).toBe(200)
  })

  it('never serves a file outside the folder, nor a dotfile: 404, never 500', async () => {
    const attempts = [
      '/..%2f..%2fetc/passwd',
      '/..%2fsecret.txt',
      '/assets/../../secret.txt',
      '/assets/../../../../etc/passwd',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%5c%2e%2e%5csecret.txt',
      '/index.html%00.js',
      '/.env',
    ]
    for (const path of attempts) {
      for (const headers of [{}, HTML]) {
        const response = await rawGet(t.url, path, headers)
        expect(response.status, path).toBe(404)
        expect(response.body, path).not.toContain(SECRET)
        expect(response.body, path).not.toContain('root:')
      }
    }
    // A path that does not decode is refused by the router, before any file is looked at.
    expect((await rawGet(t.url, '/%E0%A4%A', HTML)).status).toBe(400)
  })
})

describe('FRONTEND_DIR unset or bad', () => {
  it('unset: / and client routes are 404 JSON as before', async () => {
    const t = await startService()
    try {
      const response = await fetch(`${t.url}/services`, { headers: HTML })
      expect(response.status).toBe(404)
      expect((await json(response)).detail).toMatch(/^Not found/)
    } finally {
      await t.close()
    }
  })

  it('a missing folder, a folder without index.html or a file is a config error naming the variable and the path', () => {
    const empty = mkdtempSync(join(base, 'empty-'))
    for (const path of [join(base, 'no-such-dist'), empty, join(dist, 'index.html')]) {
      const error = (() => {
        try {
          loadConfig({ FRONTEND_DIR: path }, CACHES)
        } catch (e) {
          return e
        }
      })()
      expect(error, path).toBeInstanceOf(ConfigError)
      expect((error as Error).message).toBe(
        `FRONTEND_DIR="${path}" is not a readable folder holding index.html (a built Komandorr frontend, like frontend/dist)`,
      )
    }
    expect(loadConfig({ FRONTEND_DIR: dist }, CACHES).frontendDir).toBe(dist)
  })

  it('stops start-up with that one line and exit code 1', () => {
    const missing = join(base, 'not-built', 'dist')
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', FRONTEND_DIR: missing, DATABASE_PATH: ':memory:', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(run.status).toBe(1)
    expect(run.stderr.trim()).toBe(
      `komandorr-cache: FRONTEND_DIR="${missing}" is not a readable folder holding index.html (a built Komandorr frontend, like frontend/dist)`,
    )
  })
})
