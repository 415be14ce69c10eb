import { createHmac, randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { CacheRegistry, Clock } from '../cache/index.js'
import type { StoredViewer, ViewersRepo } from '../db/index.js'
import { dummyHash, hashPassword, verifyPassword } from './password.js'
import { viewerOf, viewerView, type Viewer, type ViewerView } from './viewer.js'

export interface NewViewer {
  readonly username: string
  readonly password: string
  readonly plexAccountId: number
}

export type CreateOutcome =
  | { readonly ok: true; readonly viewer: ViewerView }
  | { readonly ok: false; readonly reason: 'auth-off' | 'admin-name' | 'taken' }

export interface ViewerAccountsOptions {
  readonly repo: ViewersRepo
  /** Whose scopes a delete or a cache clear drops. */
  readonly registry: CacheRegistry
  readonly clock: Clock
  /** ENABLE_AUTH and AUTH_USERNAME: viewers exist only beside an admin login. */
  readonly auth: { readonly enabled: boolean; readonly username: string }
}

/** Credentials that passed scrypt, remembered so that a polling viewer pays for it once. */
const REMEMBERED_LOGINS = 1_024

/**
 * The viewer accounts: made, listed and deleted by the admin; checked on every request of a
 * viewer. A password is kept only as a salted scrypt hash; a login that passed is remembered by
 * an HMAC of the credentials (under a key that lives only in this process) beside the hash it
 * matched, and re-checked against the stored row on each request: a deleted viewer, or one made
 * again with another password, is refused on its next request on every instance.
 */
export class ViewerAccounts {
  private readonly loginKey = randomBytes(32)
  private readonly remembered = new LRUCache<string, string>({ max: REMEMBERED_LOGINS })

  constructor(private readonly options: ViewerAccountsOptions) {}

  async create(input: NewViewer): Promise<CreateOutcome> {
    const { repo, clock, auth } = this.options
    if (!auth.enabled) return { ok: false, reason: 'auth-off' }
    if (input.username === auth.username) return { ok: false, reason: 'admin-name' }
    if (repo.get(input.username) !== undefined) return { ok: false, reason: 'taken' }
    const stored = { username: input.username, passwordHash: await hashPassword(input.password), plexAccountId: input.plexAccountId, createdAt: clock.wallNow() }
    if (!repo.add(stored)) return { ok: false, reason: 'taken' }
    return { ok: true, viewer: viewerView(stored) }
  }

  list(): ViewerView[] {
    return this.options.repo.list().map(viewerView)
  }

  /** Deletes the account and drops its cached views everywhere; false when there was none. */
  async delete(username: string): Promise<boolean> {
    const stored = this.options.repo.get(username)
    if (stored === undefined || !this.options.repo.delete(username)) return false
    await this.options.registry.clearScope(viewerOf(stored))
    return true
  }

  /** Drops one viewer's cached entries (here, in Redis, on every instance); undefined for an unknown viewer. */
  async clearCache(username: string): Promise<boolean | undefined> {
    const stored = this.options.repo.get(username)
    return stored === undefined ? undefined : this.options.registry.clearScope(viewerOf(stored))
  }

  /**
   * The viewer these credentials sign in, or undefined. A wrong password and an unknown name
   * cost the same scrypt check (an unknown name is checked against a dummy hash). A remembered
   * login answers at once, without a promise.
   */
  authenticate(username: string, password: string): Viewer | undefined | Promise<Viewer | undefined> {
    const stored = this.options.repo.get(username)
    const login = createHmac('sha256', this.loginKey).update(username).update('\0').update(password).digest('base64url')
    if (stored !== undefined && this.remembered.get(login) === stored.passwordHash) return viewerOf(stored)
    return this.check(login, password, stored)
  }

  private async check(login: string, password: string, stored: StoredViewer | undefined): Promise<Viewer | undefined> {
    const matches = await verifyPassword(password, stored?.passwordHash ?? (await dummyHash()))
    if (stored === undefined || !matches) return undefined
    this.remembered.set(login, stored.passwordHash)
    return viewerOf(stored)
  }
}
