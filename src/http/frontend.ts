import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { publicRoute } from './auth.js'

/** Paths the service answers itself: never a file of the frontend, never its index.html. */
const SERVICE_PATH = /^\/(?:api|metrics|openapi\.json|docs|cache)(?:\/|$)|^\/__/

/** Vite's build output: `assets/index-B1x9Kq2Z.js`, named by a hash of its content. */
const HASHED_ASSET = /^\/assets\/.+[.-][A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+$/

const IMMUTABLE = 'public, max-age=31536000, immutable'

/**
 * Serves a built Komandorr frontend (FRONTEND_DIR, its `frontend/dist`) the way Komandorr's own
 * backend does: every file of it at its path (`/assets/*`, `/icons/*`, `/favicon.svg`), and
 * index.html for any other GET a browser navigates to, so the SPA's client-side routes load on
 * reload. API paths and the service's own pages still answer 404 as JSON when unknown.
 * Open without credentials: the login is part of the frontend.
 */
export function installFrontend(app: FastifyInstance, root: string): void {
  void app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root,
      serve: false,
      index: false,
      dotfiles: 'ignore',
      cacheControl: false,
      // Hashed assets never change under their name; anything else (index.html first) is
      // revalidated on each use with its ETag, so a new build shows on the next reload.
      setHeaders(response, path) {
        response.setHeader('cache-control', HASHED_ASSET.test(path.slice(root.length)) ? IMMUTABLE : 'no-cache')
      },
    })
    scope.get('/*', { config: publicRoute }, (request, reply) => serveFrontend(root, request, reply))
  })
}

async function serveFrontend(root: string, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const path = decodedPath(request.url)
  if (path !== null && !SERVICE_PATH.test(path)) {
    if (path !== '/' && (await isFile(join(root, path)))) return reply.sendFile(path)
    if (path === '/' || acceptsHtml(request)) return reply.sendFile('index.html')
  }
  reply.callNotFound()
  return reply
}

/** The request's path, decoded; null when it could step out of the folder or does not decode. */
function decodedPath(url: string): string | null {
  const raw = url.split('?', 1)[0]!
  let path: string
  try {
    path = decodeURIComponent(raw)
  } catch {
    return null
  }
  if (path.includes('\0') || path.split(/[/\\]/).includes('..')) return null
  return path
}

/** A browser navigating; an `<img>` or `fetch` of a missing file gets a 404, not the page. */
function acceptsHtml(request: FastifyRequest): boolean {
  return request.headers.accept?.includes('text/html') ?? false
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}
