import { LRUCache } from 'lru-cache'
import { scopeIdOf, type CacheRegistry, type Clock } from '../../cache/index.js'
import type { StoredViewer, ViewersRepo } from '../../db/index.js'
import { LoginDigest } from './login-digest.js'
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

/** How often a remembered login is checked against its stored row again (in the background). */
export const LOGIN_RECHECK_MS = 1_000

/** A login that passed: who it signs in, and the stored hash it matched. */
interface RememberedLogin {
  readonly viewer: Viewer
  readonly scopeId: string
  readonly passwordHash: string
  checkedAt: number
}

/**
 * The viewer accounts: made, listed and deleted by the admin; checked on every request of a
 * viewer. A password is kept only as a salted scrypt hash. A login that passed is remembered by
 * its `LoginDigest` (an HMAC of the credentials under a key that lives only in this process)
 * and answered from memory, without the database: deleting a viewer (or clearing their cache) clears their scope,
 * which forgets their logins here at once and on every other instance as the bus delivers it;
 * a remembered login is also checked against its stored row again, in the background, once a
 * second while in use, for instances that share the database without Redis.
 */
export class ViewerAccounts {
  /** The digest remembered logins are found by; the auth check takes the same one for the admin. */
  readonly logins = new LoginDigest()
  private readonly remembered = new LRUCache<string, RememberedLogin>({ max: REMEMBERED_LOGINS })
  private readonly createdListeners = new Set<() => void>()

  constructor(private readonly options: ViewerAccountsOptions) {
    options.registry.onScopeDropped((scopeId) => this.forgetScope(scopeId))
  }

  async create(input: NewViewer): Promise<CreateOutcome> {
    const { repo, clock, auth } = this.options
    if (!auth.enabled) return { ok: false, reason: 'auth-off' }
    if (input.username === auth.username) return { ok: false, reason: 'admin-name' }
    if ((await repo.get(input.username)) !== undefined) return { ok: false, reason: 'taken' }
    const stored = {
      username: input.username,
      passwordHash: await hashPassword(input.password),
      plexAccountId: input.plexAccountId,
      createdAt: clock.wallNow(),
    }
    if (!(await repo.add(stored))) return { ok: false, reason: 'taken' }
    for (const listener of this.createdListeners) listener()
    return { ok: true, viewer: viewerView(stored) }
  }

  /** `listener` runs after each account made (credentials refused before may sign it in now); returns the undo. */
  onCreated(listener: () => void): () => void {
    this.createdListeners.add(listener)
    return () => this.createdListeners.delete(listener)
  }

  async list(): Promise<ViewerView[]> {
    return (await this.options.repo.list()).map(viewerView)
  }

  /** Deletes the account and drops its cached views everywhere; false when there was none. */
  async delete(username: string): Promise<boolean> {
    const stored = await this.options.repo.get(username)
    if (stored === undefined || !(await this.options.repo.delete(username))) return false
    // Clearing the scope forgets the viewer's remembered logins here and on every instance.
    await this.options.registry.clearScope(viewerOf(stored))
    return true
  }

  /** Drops one viewer's cached entries (here, in Redis, on every instance); undefined for an unknown viewer. */
  async clearCache(username: string): Promise<boolean | undefined> {
    const stored = await this.options.repo.get(username)
    return stored === undefined ? undefined : this.options.registry.clearScope(viewerOf(stored))
  }

  /**
   * The viewer these credentials sign in, or undefined. A wrong password and an unknown name
   * cost the same scrypt check (an unknown name is checked against a dummy hash). A remembered
   * login answers at once, without a promise. `digest`: `logins.of(username, password)`, when
   * the caller has it already.
   */
  authenticate(
    username: string,
    password: string,
    digest = this.logins.of(username, password),
  ): Viewer | undefined | Promise<Viewer | undefined> {
    const login = digest.toString('base64url')
    return this.recallLogin(login) ?? this.check(login, username, password)
  }

  /** The viewer of a remembered login (by its `logins.of` digest), or undefined: never starts a check. */
  recall(digest: Buffer): Viewer | undefined {
    return this.recallLogin(digest.toString('base64url'))
  }

  private recallLogin(login: string): Viewer | undefined {
    const held = this.remembered.get(login)
    if (held === undefined) return undefined
    const now = this.options.clock.now()
    if (now - held.checkedAt >= LOGIN_RECHECK_MS) {
      held.checkedAt = now
      void this.recheck(login, held)
    }
    return held.viewer
  }

  private async check(login: string, username: string, password: string): Promise<Viewer | undefined> {
    const stored = await this.options.repo.get(username)
    const matches = await verifyPassword(password, stored?.passwordHash ?? (await dummyHash()))
    if (stored === undefined || !matches) return undefined
    const viewer = viewerOf(stored)
    this.remembered.set(login, {
      viewer,
      scopeId: scopeIdOf(viewer.id),
      passwordHash: stored.passwordHash,
      checkedAt: this.options.clock.now(),
    })
    return viewer
  }

  /** Forgets `login` when its viewer is gone or was made again (another password or Plex account). */
  private async recheck(login: string, held: RememberedLogin): Promise<void> {
    let stored: StoredViewer | undefined
    try {
      stored = await this.options.repo.get(held.viewer.username)
    } catch {
      // The database is away: keep the login; the next check after LOGIN_RECHECK_MS tries again.
      return
    }
    if (stored === undefined || stored.passwordHash !== held.passwordHash || viewerOf(stored).id !== held.viewer.id)
      this.remembered.delete(login)
  }

  private forgetScope(scopeId: string): void {
    const logins = [...this.remembered.entries()].filter(([, held]) => held.scopeId === scopeId).map(([login]) => login)
    for (const login of logins) this.remembered.delete(login)
  }
}
