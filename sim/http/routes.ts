import { accounts } from '../endpoints/accounts.js'
import { activities } from '../endpoints/activities.js'
import { history } from '../endpoints/history.js'
import { avatarImage, metadataImage, resourceImage } from '../endpoints/images.js'
import { metadata, metadataChildren } from '../endpoints/metadata.js'
import { sharedServers } from '../endpoints/plextv.js'
import { recentlyAdded, sectionRecentlyAdded } from '../endpoints/recently-added.js'
import { identity, serverInfo } from '../endpoints/server-info.js'
import { librarySections, sectionAll } from '../endpoints/sections.js'
import { statusSessions, transcodeSessions } from '../endpoints/sessions.js'
import type { LiveState } from '../live/state.js'
import type { World } from '../world.js'
import type { Reply, RequestContext } from './reply.js'

export type AuthKind = 'pms' | 'plextv' | 'none'

export interface Route {
  /** The pattern requests are counted (and faults matched) under. */
  endpoint: string
  auth: AuthKind
  kind?: 'websocket' | 'eventsource'
  /** When set, answers are cached until this version string changes. */
  version?: (world: World, live: LiveState) => string
  handle?: (ctx: RequestContext) => Reply
}

interface CompiledRoute {
  route: Route
  segments: string[]
}

const lib = (w: World): string => `l${w.library.version}`
const hist = (w: World): string => `l${w.library.version}h${w.history.version}`
const sessions = (_w: World, live: LiveState): string => `s${live.sessionsVersion}`
const acts = (w: World, live: LiveState): string => `l${w.library.version}a${live.activitiesVersion}`
const fixed = (): string => 'static'

/** Every path the simulator answers; `:name` segments are parameters. */
export const ROUTES: readonly (Route & { path: string })[] = [
  { path: '/', endpoint: '/', auth: 'pms', version: sessions, handle: serverInfo },
  { path: '/identity', endpoint: '/identity', auth: 'none', version: fixed, handle: identity },
  { path: '/accounts', endpoint: '/accounts', auth: 'pms', version: fixed, handle: accounts },
  { path: '/activities', endpoint: '/activities', auth: 'pms', version: acts, handle: activities },
  { path: '/library/sections', endpoint: '/library/sections', auth: 'pms', version: acts, handle: librarySections },
  {
    path: '/library/sections/:id/all',
    endpoint: '/library/sections/:id/all',
    auth: 'pms',
    version: lib,
    handle: sectionAll,
  },
  {
    path: '/library/sections/:id/recentlyAdded',
    endpoint: '/library/sections/:id/recentlyAdded',
    auth: 'pms',
    version: lib,
    handle: sectionRecentlyAdded,
  },
  {
    path: '/library/sections/:id/composite/:ts',
    endpoint: '/library/sections/:id/composite/:ts',
    auth: 'pms',
    handle: (ctx) => metadataImage({ ...ctx, params: { id: `section-${ctx.params.id}`, kind: 'art' } }),
  },
  {
    path: '/library/recentlyAdded',
    endpoint: '/library/recentlyAdded',
    auth: 'pms',
    version: lib,
    handle: recentlyAdded,
  },
  { path: '/library/metadata/:ids', endpoint: '/library/metadata/:ids', auth: 'pms', version: lib, handle: metadata },
  {
    path: '/library/metadata/:id/children',
    endpoint: '/library/metadata/:id/children',
    auth: 'pms',
    version: lib,
    handle: metadataChildren,
  },
  {
    path: '/library/metadata/:id/thumb/:ts',
    endpoint: '/library/metadata/:id/thumb/:ts',
    auth: 'pms',
    handle: (ctx) => metadataImage({ ...ctx, params: { ...ctx.params, kind: 'thumb' } }),
  },
  {
    path: '/library/metadata/:id/art/:ts',
    endpoint: '/library/metadata/:id/art/:ts',
    auth: 'pms',
    handle: (ctx) => metadataImage({ ...ctx, params: { ...ctx.params, kind: 'art' } }),
  },
  { path: '/:/resources/:name', endpoint: '/:/resources/:name', auth: 'pms', handle: resourceImage },
  { path: '/status/sessions', endpoint: '/status/sessions', auth: 'pms', version: sessions, handle: statusSessions },
  {
    path: '/status/sessions/history/all',
    endpoint: '/status/sessions/history/all',
    auth: 'pms',
    version: hist,
    handle: history,
  },
  {
    path: '/transcode/sessions',
    endpoint: '/transcode/sessions',
    auth: 'pms',
    version: sessions,
    handle: transcodeSessions,
  },
  { path: '/:/websockets/notifications', endpoint: '/:/websockets/notifications', auth: 'pms', kind: 'websocket' },
  // Some clients use the singular spelling; count both under one pattern.
  { path: '/:/websocket/notifications', endpoint: '/:/websockets/notifications', auth: 'pms', kind: 'websocket' },
  { path: '/:/eventsource/notifications', endpoint: '/:/eventsource/notifications', auth: 'pms', kind: 'eventsource' },
  {
    path: '/api/servers/:id/shared_servers',
    endpoint: '/api/servers/:id/shared_servers',
    auth: 'plextv',
    version: fixed,
    handle: sharedServers,
  },
  { path: '/users/:hash/avatar', endpoint: '/users/:hash/avatar', auth: 'none', handle: avatarImage },
]

export const UNMATCHED_ENDPOINT = '(unmatched)'

export class Router {
  private readonly byLength = new Map<number, CompiledRoute[]>()

  constructor(routes: readonly (Route & { path: string })[]) {
    for (const r of routes) {
      const segments = r.path === '/' ? [] : r.path.slice(1).split('/')
      const list = this.byLength.get(segments.length) ?? []
      list.push({ route: r, segments })
      this.byLength.set(segments.length, list)
    }
  }

  match(path: string): { route: Route; params: Record<string, string> } | null {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
    const parts = trimmed === '/' ? [] : trimmed.slice(1).split('/')
    const candidates = this.byLength.get(parts.length)
    if (!candidates) return null
    outer: for (const c of candidates) {
      const params: Record<string, string> = {}
      for (let i = 0; i < parts.length; i++) {
        const seg = c.segments[i]!
        const part = parts[i]!
        if (seg.length > 1 && seg.startsWith(':')) {
          if (part === '') continue outer
          try {
            params[seg.slice(1)] = decodeURIComponent(part)
          } catch {
            continue outer
          }
        } else if (seg !== part) {
          continue outer
        }
      }
      return { route: c.route, params }
    }
    return null
  }
}
