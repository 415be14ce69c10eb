import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { CacheHistory } from '../../metrics/cache-history.js'
import { cacheHistoryBody, routeDoc, textBody } from '../openapi/schemas.js'

/** The folder holding package.json: `web/` sits there, whether this runs from src/ (tsx) or dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('the cache page: no package.json above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
  return dir
}

interface Asset {
  readonly type: string
  readonly body: Buffer
}

/** Every file the page loads, read once at start: its own files and uPlot from node_modules (no CDN). */
function loadAssets(): Map<string, Asset> {
  const web = join(packageRoot(), 'web', 'cache')
  const resolve = createRequire(import.meta.url).resolve
  const uplotDist = dirname(resolve('uplot'))
  const files: Array<[string, string, string]> = [
    ['cache-page.js', join(web, 'cache-page.js'), 'text/javascript; charset=utf-8'],
    ['cache-page.css', join(web, 'cache-page.css'), 'text/css; charset=utf-8'],
    ['uPlot.iife.min.js', join(uplotDist, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['uPlot.min.css', join(uplotDist, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ]
  return new Map(files.map(([name, path, type]) => [name, { type, body: readFileSync(path) }]))
}

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

/**
 * `GET /cache`: a page of live plots of every cache (the last 15 minutes, from
 * `GET /api/plex/cache/history`) with Clear and Warm buttons. Behind the same auth as the API:
 * with auth on the browser asks for the Basic credentials and sends them on the page's calls.
 */
export function cachePageRoutes(app: FastifyInstance, deps: { cacheHistory: CacheHistory }): void {
  const page = readFileSync(join(packageRoot(), 'web', 'cache', 'index.html'))
  const assets = loadAssets()
  const history = deps.cacheHistory

  app.get(
    '/cache',
    {
      schema: routeDoc('cache', 'The cache page: live plots, Clear and Warm', {
        200: textBody('text/html', 'The page'),
      }),
    },
    async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', CSP)
        .header('cache-control', 'no-cache')
        .send(page),
  )

  app.get<{ Params: { file: string } }>(
    '/cache/assets/:file',
    {
      schema: routeDoc(
        'cache',
        "The cache page's scripts and styles (uPlot from node_modules)",
        { 200: textBody('text/javascript', 'A script or a style sheet') },
        {
          params: {
            type: 'object',
            required: ['file'],
            properties: { file: { type: 'string', enum: [...assets.keys()] } },
          },
        },
      ),
    },
    async (request, reply) => {
      const asset = assets.get(request.params.file)!
      return reply.type(asset.type).header('cache-control', 'public, max-age=3600').send(asset.body)
    },
  )

  app.get<{ Querystring: { after?: number } }>(
    '/api/plex/cache/history',
    {
      schema: routeDoc(
        'cache',
        'The samples behind the cache page (every 5 s, the last 15 minutes)',
        { 200: cacheHistoryBody },
        {
          querystring: {
            type: 'object',
            properties: {
              after: { type: 'number', minimum: 0, description: 'only samples after this time (epoch ms)' },
            },
          },
        },
      ),
    },
    async (request) => history.view(request.query.after),
  )
}
