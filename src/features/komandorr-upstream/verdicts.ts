import { createHmac, randomBytes } from 'node:crypto'
import type { Cache, CacheEntry, CacheRegistry } from '../../cache/index.js'
import type { KomandorrAnswer } from '../caches/komandorr-declaration.js'
import type { KomandorrClient } from './client.js'

/** Komandorr's word on a caller's credentials (or their absence). */
export type KomandorrVerdict = 'accepted' | 'rejected'

/** How long a verdict is remembered (refreshed ahead while the credential is in use). */
export const VERDICT_TTL_MS = 60_000
/** Credentials remembered at once; a flood of new ones pushes out the least recently used. */
const MAX_CREDENTIALS = 1024

/** Komandorr's login checks a password with this GET: open with auth off, 401 to wrong credentials. */
const PROBE_PATH = '/api/health'

interface VerdictValue {
  readonly accepted: boolean
}

const authEnabledOf = new WeakMap<CacheEntry<KomandorrAnswer>, boolean>()

/** `{"enabled": false}` is the only answer that turns auth off; anything else keeps it on. */
function authEnabled(entry: CacheEntry<KomandorrAnswer>): boolean {
  let enabled = authEnabledOf.get(entry)
  if (enabled === undefined) {
    try {
      enabled = (JSON.parse(entry.value.body) as { enabled?: unknown }).enabled !== false
    } catch {
      enabled = true
    }
    authEnabledOf.set(entry, enabled)
  }
  return enabled
}

/**
 * Who Komandorr accepts, asked of Komandorr and remembered: its auth status (`/api/auth/status`,
 * a cache of the catalogue) and, with auth on, per credential the status of `GET /api/health`
 * with it. Verdicts are a keyed cache of the core (single flight, stale while Komandorr is
 * down, bounded) under an HMAC of the credential with a key that never leaves this process:
 * no key, log line, metric or Redis entry holds a credential or a hash that could be tested
 * offline. Verdicts stay in this instance's memory.
 */
export class KomandorrCallers {
  private readonly verdicts: Cache<VerdictValue, string>
  private readonly secret = randomBytes(32)
  private accepted: string | undefined

  constructor(
    registry: CacheRegistry,
    client: KomandorrClient,
    private readonly authStatus: Cache<KomandorrAnswer>,
  ) {
    this.verdicts = registry.define<VerdictValue, string>({
      name: 'komandorr_verdicts',
      key: 'komandorr:verdicts',
      ttlMs: VERDICT_TTL_MS,
      shared: false,
      maxKeys: MAX_CREDENTIALS,
      maxBytes: 1024 * 1024,
      keyOf: (authorization) => createHmac('sha256', this.secret).update(authorization).digest('base64url'),
      load: async (authorization, signal) => {
        const answer = await client.get(PROBE_PATH, authorization, signal)
        if (answer.status === 401 || answer.status === 403) return { accepted: false }
        if (answer.status >= 200 && answer.status < 300) return { accepted: true }
        throw new Error(`Komandorr answered ${answer.status} to GET ${PROBE_PATH}: no verdict on the credentials`)
      },
    })
  }

  /**
   * What the caches' loaders send: the credentials Komandorr last accepted here (Komandorr has
   * one account, so its answers do not depend on who asks).
   */
  get loaderAuthorization(): string | undefined {
    return this.accepted
  }

  /** The verdict from memory, or undefined when Komandorr must be asked (`verdict`). */
  verdictNow(authorization: string | undefined): KomandorrVerdict | undefined {
    const status = this.authStatus.peek()
    if (status === undefined) return undefined
    if (!authEnabled(status)) return 'accepted'
    if (authorization === undefined) return 'rejected'
    const held = this.verdicts.peek(authorization)
    return held === undefined ? undefined : this.remember(authorization, held.value)
  }

  /**
   * Asks Komandorr when memory does not know (stale verdicts while it is down). Throws when
   * Komandorr cannot be asked and nothing is remembered.
   */
  async verdict(authorization: string | undefined): Promise<KomandorrVerdict> {
    let enabled = true
    try {
      enabled = authEnabled((await this.authStatus.read()).entry)
    } catch {
      // Komandorr's auth status unknown: ask about the credentials (auth stays on).
    }
    if (!enabled) return 'accepted'
    if (authorization === undefined) return 'rejected'
    const { entry } = await this.verdicts.read(authorization)
    return this.remember(authorization, entry.value)
  }

  /**
   * Forgets every verdict, here and on every instance (Komandorr's credentials or auth changed):
   * the next request of each caller asks Komandorr again.
   */
  async forget(): Promise<void> {
    this.accepted = undefined
    await this.verdicts.clear()
  }

  private remember(authorization: string, value: VerdictValue): KomandorrVerdict {
    if (!value.accepted) return 'rejected'
    this.accepted = authorization
    return 'accepted'
  }
}
