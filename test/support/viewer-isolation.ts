// The isolation workload of the viewer tests: 20 viewers (one per shared Plex account of the
// simulator) and the admin send randomized requests to one or several instances, while sessions,
// activities, clears and syncs change things underneath; every answer is checked against the
// simulator's ground truth for the principal who asked.
import type { RunningSimulator } from '../../sim/index.js'
import { basic, simJson, type Raw } from './api-harness.js'

export const ADMIN = { user: 'admin', password: 'admin password 123' }
export const AUTH_ENV = { ENABLE_AUTH: 'true', AUTH_USERNAME: ADMIN.user, AUTH_PASSWORD: ADMIN.password }

export interface Caller {
  readonly name: string
  readonly headers: Record<string, string>
  /** The viewer's Plex account; null for the admin. */
  readonly account: number | null
  readonly password: string | null
}

/** Seeded, so that a failing run can be replayed. */
export { mulberry32 as prng } from '../../sim/random.js'

/** Makes one viewer per shared account of the simulator (through the admin's API). */
export async function createViewers(url: string, sim: RunningSimulator, count: number): Promise<Caller[]> {
  const accounts = sim.control
    .state()
    .accounts.filter((a) => a.id > 1)
    .slice(0, count)
  if (accounts.length < count)
    throw new Error(`the simulator has ${accounts.length} shared accounts, ${count} needed: start it with sharedUsers`)
  const viewers = await Promise.all(
    accounts.map(async (account, i) => {
      const name = `viewer${i}`
      const password = `password-of-${name}-${account.id}`
      const response = await fetch(`${url}/api/viewers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...basic(ADMIN.user, ADMIN.password) },
        body: JSON.stringify({ username: name, password, plex_account_id: account.id }),
      })
      if (response.status !== 201)
        throw new Error(`POST /api/viewers ${name}: ${response.status} ${await response.text()}`)
      return { name, headers: basic(name, password), account: account.id, password }
    }),
  )
  return viewers
}

export const adminCaller: Caller = {
  name: 'admin',
  headers: basic(ADMIN.user, ADMIN.password),
  account: null,
  password: null,
}

/** A movie or show section of the simulator: its totals and the titles its recently added can show. */
interface SectionTruth {
  readonly key: string
  readonly type: string
  readonly movies: number
  readonly shows: number
  readonly titles: ReadonlySet<string>
}

/**
 * What the simulator says is true: who each session belongs to, each account's history, and
 * (after `readLibraries`) which sections plex.tv shares with each account.
 */
export class GroundTruth {
  readonly sessionOwner = new Map<string, number>()
  private history = new Map<number, Set<string>>()
  private ordered = new Map<number, string[]>()
  private sections: SectionTruth[] = []
  /** account → the keys of the sections shared with it, from the shared_servers XML */
  private shares = new Map<number, Set<string>>()

  constructor(readonly sim: RunningSimulator) {}

  /** Reads the movie and show sections (totals, recently added titles) and plex.tv's sharing. */
  async readLibraries(): Promise<void> {
    const state = this.sim.control.state()
    this.sections = await Promise.all(
      state.library.sections
        .filter((s) => s.type === 'movie' || s.type === 'show')
        .map(async (s) => {
          const recent = await simJson(
            this.sim,
            `/library/sections/${s.id}/recentlyAdded?X-Plex-Container-Start=0&X-Plex-Container-Size=1000`,
          )
          const titles = new Set<string>()
          for (const item of (recent.Metadata ?? []) as Raw[])
            for (const t of [item.title, item.parentTitle, item.grandparentTitle])
              if (typeof t === 'string') titles.add(t)
          return {
            key: String(s.id),
            type: s.type,
            movies: s.counts['1'] ?? 0,
            shows: s.type === 'show' ? (s.counts['2'] ?? 0) : 0,
            titles,
          }
        }),
    )
    const identity = await simJson(this.sim, '/identity')
    const response = await fetch(
      `${this.sim.url}/api/servers/${identity.machineIdentifier}/shared_servers?X-Plex-Token=${this.sim.token}`,
    )
    const xml = await response.text()
    this.shares.clear()
    for (const [, attributes, body] of xml.matchAll(/<SharedServer ([^>]*)>([\s\S]*?)<\/SharedServer>/g)) {
      const account = Number(/userID="(\d+)"/.exec(attributes!)![1])
      const keys = this.shares.get(account) ?? new Set<string>()
      for (const [section] of body!.matchAll(/<Section [^>]*>/g))
        if (/shared="1"/.test(section)) keys.add(/key="([^"]+)"/.exec(section)![1]!)
      this.shares.set(account, keys)
    }
  }

  /** The movie and show sections `account` may see (null: the admin, all). */
  sectionsOf(account: number | null): SectionTruth[] {
    if (account === null || account === 1) return this.sections
    const keys = this.shares.get(account) ?? new Set<string>()
    return this.sections.filter((s) => keys.has(s.key))
  }

  totalsOf(account: number | null): { total_movies: number; total_tv_shows: number } {
    const sections = this.sectionsOf(account)
    return {
      total_movies: sections.reduce((n, s) => n + (s.type === 'movie' ? s.movies : 0), 0),
      total_tv_shows: sections.reduce((n, s) => n + s.shows, 0),
    }
  }

  /** Whether a recently added entry of that title and section type may be shown to `account`. */
  mayShow(account: number | null, title: string, type: string): boolean {
    return this.sectionsOf(account).some((s) => s.type === type && s.titles.has(title))
  }

  startSession(accountId: number, paused = false): void {
    const session = this.sim.control.startSession({ accountId, paused, kind: 'movie' })
    this.sessionOwner.set(session.sessionKey, accountId)
  }

  /** Re-reads every account's history from the simulator (newest first). */
  async readHistory(accounts: readonly number[]): Promise<void> {
    for (const account of accounts) {
      const container = await simJson(
        this.sim,
        `/status/sessions/history/all?accountID=${account}&sort=viewedAt:desc&X-Plex-Container-Start=0&X-Plex-Container-Size=100000`,
      )
      const rows = ((container.Metadata ?? []) as Raw[]).map((row) =>
        rowKey(Number(row.viewedAt), String(row.title ?? '')),
      )
      this.ordered.set(account, rows)
      this.history.set(account, new Set(rows))
    }
  }

  hasRow(account: number, key: string): boolean {
    return this.history.get(account)?.has(key) === true
  }

  newest(account: number, n: number): string[] {
    return (this.ordered.get(account) ?? []).slice(0, n)
  }
}

export const rowKey = (viewedAtSeconds: number, title: string) => `${viewedAtSeconds}|${title}`
export const apiRowKey = (row: Raw) =>
  rowKey(Math.floor(Date.parse(row.viewed_at as string) / 1000), row.title as string)

interface Request {
  readonly caller: Caller
  readonly path: string
  readonly ifNoneMatch?: { readonly etag: string; readonly from: string }
  /** The answer must be this status (a viewer naming another user's history). */
  readonly expectStatus?: number
}

/**
 * Sends requests and checks each answer for its caller: a viewer's sessions, activities and
 * history rows are their own; a 304 comes only for an ETag the caller itself was given; no
 * ETag is ever given to two callers.
 */
export class IsolationChecker {
  readonly violations: string[] = []
  responses = 0
  notModified = 0
  forbidden = 0
  /** path → etag → the callers given it */
  private readonly etags = new Map<string, Map<string, Set<string>>>()
  /** caller + path → the last etag given */
  private readonly lastEtag = new Map<string, string>()

  constructor(
    private readonly truth: GroundTruth,
    private readonly callers: readonly Caller[],
    private readonly random: () => number,
  ) {}

  /** A random request of a random caller, sometimes with an ETag (its own or someone else's). */
  randomRequest(): Request {
    const caller = this.callers[Math.floor(this.random() * this.callers.length)]!
    const r = this.random()
    let path: string
    let expectStatus: number | undefined
    if (r < 0.3) path = '/api/plex/sessions'
    else if (r < 0.45) path = this.random() < 0.8 ? '/api/plex/activities' : '/api/downloads'
    else if (r < 0.75) {
      const limit = 1 + Math.floor(this.random() * 60)
      const offset = Math.floor(this.random() * 20)
      path = `/api/plex/watch-history?limit=${limit}&offset=${offset}`
      const u = this.random()
      if (u < 0.2 && caller.account !== null) path += `&user_id=${caller.account}`
      else if (u < 0.3) {
        const other = this.callers.find((c) => c.account !== null && c.account !== caller.account)!
        path += `&user_id=${other.account}`
        if (caller.account !== null) expectStatus = 403
      }
    } else if (r < 0.88) path = '/api/plex/stats'
    else path = '/api/plex/media/recent'
    let ifNoneMatch: Request['ifNoneMatch']
    if (this.random() < 0.35) {
      const given = this.etags.get(path)
      if (this.random() < 0.5) {
        const own = this.lastEtag.get(`${caller.name} ${path}`)
        if (own !== undefined) ifNoneMatch = { etag: own, from: caller.name }
      } else if (given !== undefined && given.size > 0) {
        const all = [...given.entries()].filter(([, to]) => !to.has(caller.name))
        const pick = all[Math.floor(this.random() * all.length)]
        if (pick !== undefined) ifNoneMatch = { etag: pick[0], from: [...pick[1]].join(',') }
      }
    }
    return { caller, path, ifNoneMatch, expectStatus }
  }

  async send(baseUrl: string, request: Request): Promise<void> {
    const headers: Record<string, string> = { ...request.caller.headers }
    if (request.ifNoneMatch) headers['if-none-match'] = request.ifNoneMatch.etag
    const response = await fetch(baseUrl + request.path, { headers })
    const text = await response.text()
    this.check(request, response.status, response.headers.get('etag'), text)
  }

  private violation(request: Request, what: string): void {
    if (this.violations.length < 50) this.violations.push(`${request.caller.name} GET ${request.path}: ${what}`)
    else if (this.violations.length === 50) this.violations.push('...')
  }

  private check(request: Request, status: number, etag: string | null, text: string): void {
    this.responses++
    const { caller, path } = request
    if (request.caller.password !== null && text.includes(request.caller.password))
      this.violation(request, 'the password is in the answer')
    if (text.includes(this.truth.sim.token)) this.violation(request, 'the Plex token is in the answer')
    if (request.expectStatus !== undefined) {
      if (status !== request.expectStatus) this.violation(request, `status ${status}, expected ${request.expectStatus}`)
      else this.forbidden++
      return
    }
    if (status === 304) {
      this.notModified++
      const sent = request.ifNoneMatch
      if (sent === undefined || !(this.etags.get(path)?.get(sent.etag)?.has(caller.name) ?? false)) {
        this.violation(request, `304 for an ETag given to ${sent?.from ?? 'nobody'}, not to this caller`)
      }
      return
    }
    if (status !== 200) return this.violation(request, `status ${status}: ${text.slice(0, 200)}`)
    if (etag !== null) {
      let byEtag = this.etags.get(path)
      if (byEtag === undefined) this.etags.set(path, (byEtag = new Map()))
      let to = byEtag.get(etag)
      if (to === undefined) byEtag.set(etag, (to = new Set()))
      to.add(caller.name)
      if (to.size > 1) this.violation(request, `ETag ${etag} was given to ${[...to].join(' and ')}`)
      this.lastEtag.set(`${caller.name} ${path}`, etag)
    }
    const body = JSON.parse(text) as Raw
    const account = caller.account
    if (path.startsWith('/api/plex/sessions')) {
      for (const session of body.sessions as Raw[]) {
        const owner = this.truth.sessionOwner.get(session.session_id as string)
        if (owner === undefined) this.violation(request, `session ${session.session_id} was never started`)
        else if (account !== null && (owner !== account || session.user.id !== String(account))) {
          this.violation(request, `session ${session.session_id} of account ${owner}`)
        }
      }
      if (body.total !== (body.sessions as Raw[]).length) this.violation(request, 'total is not the number of sessions')
    } else if (path.startsWith('/api/plex/activities') || path.startsWith('/api/downloads')) {
      for (const item of body.activities as Raw[]) {
        if (account === null) continue
        const owner = this.truth.sessionOwner.get(item.uuid as string)
        if (owner !== account)
          this.violation(request, `activity ${item.type} ${item.uuid} (owner ${owner ?? 'the server'})`)
      }
    } else if (path.startsWith('/api/plex/watch-history')) {
      for (const row of body as Raw[]) {
        const owner = account ?? (row.user_id as number)
        if (account !== null && row.user_id !== account) this.violation(request, `history row of user ${row.user_id}`)
        else if (!this.truth.hasRow(owner, apiRowKey(row)))
          this.violation(request, `history row ${apiRowKey(row)} is not in account ${owner}'s history`)
      }
    } else if (path.startsWith('/api/plex/stats')) {
      if (account !== null && 'total_users' in body)
        this.violation(request, 'a viewer was given the server-wide user count')
      if (account === null && typeof body.total_users !== 'number')
        this.violation(request, 'the admin lost total_users')
      const expected = this.truth.totalsOf(account)
      if (body.total_movies !== expected.total_movies || body.total_tv_shows !== expected.total_tv_shows) {
        this.violation(
          request,
          `totals ${body.total_movies}/${body.total_tv_shows}, the shared sections hold ${expected.total_movies}/${expected.total_tv_shows}`,
        )
      }
      if ('libraries' in body) this.violation(request, 'the per-section breakdown is in the answer')
    } else if (!Array.isArray(body.media)) {
      this.violation(request, 'no media list')
    } else {
      for (const item of body.media as Raw[]) {
        if (!this.truth.mayShow(account, item.title, item.type))
          this.violation(
            request,
            `recently added ${item.type} "${item.title}" is not in a section shared with this caller`,
          )
      }
      if ('libraries' in body) this.violation(request, 'the per-section breakdown is in the answer')
    }
  }
}
