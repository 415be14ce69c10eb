import type { AnyCache, Clock } from '../../cache/index.js'
import type { TopicBus } from '../../cache/redis/index.js'
import type { Config } from '../../config.js'
import type { SettingsRepo } from '../../db/index.js'
import type { Logger, LogSecrets } from '../../logger.js'
import { isPlexError } from '../../plex/index.js'
import type { PlexConnection, PlexSettings } from '../../plex/plex-connection.js'
import { Throttle } from '../throttle.js'

/** The settings row holding the Plex server saved through the API (the token is kept only there). */
export const PLEX_SETTINGS_KEY = 'plex'

/** Announced to the other instances when the settings row changed; the message carries nothing else. */
export const PLEX_SETTINGS_TOPIC = 'plex-settings'

interface StoredPlexSettings {
  url: string
  token: string
  server_name?: string
}

/**
 * The server to start with: the one saved through the API wins over PLEX_SERVER_URL/TOKEN.
 * Without `settings` (the database not reached yet) only the environment counts.
 */
export async function initialPlexSettings(
  config: Config,
  settings: SettingsRepo | undefined,
): Promise<PlexSettings | undefined> {
  const saved = await settings?.get<StoredPlexSettings>(PLEX_SETTINGS_KEY)
  if (saved?.url && saved.token)
    return { url: saved.url, token: saved.token, serverName: saved.server_name || config.plex.serverName }
  if (config.plex.serverUrl && config.plex.token) {
    return { url: config.plex.serverUrl, token: config.plex.token, serverName: config.plex.serverName }
  }
  return undefined
}

/** `GET /api/plex/config`: never the token. */
export interface PlexConfigView {
  url: string
  server_name: string
  token_configured: boolean
}

export type PlexCheck = { valid: true; serverName: string } | { valid: false; message: string }

/** A `{url, token}` body that cannot be a Plex server's address; `field` names the culprit. */
export class PlexConfigInputError extends Error {
  constructor(
    readonly field: 'url' | 'token',
    message: string,
  ) {
    super(message)
    this.name = 'PlexConfigInputError'
  }
}

export interface PlexConfigServiceOptions {
  plex: PlexConnection
  settings: SettingsRepo
  clock: Clock
  /** PLEX_SERVER_NAME: the name shown until the server told its own. */
  defaultServerName: string
  /** Tokens saved through the API join the secrets the logger hides. */
  logSecrets?: LogSecrets
  /** How long `GET /` on a candidate server may take. Default 5 s. */
  probeTimeoutMs?: number
  /** Where why a check failed is told (the client only hears that no Plex server answered). */
  logger?: Pick<Logger, 'info'>
  /** Checks of a candidate server at most per minute (each is a request this service makes). Default 10. */
  checksPerMinute?: number
}

/** Reads, checks and saves the Plex server (`/api/plex/config`, `/api/plex/validate`). */
export class PlexConfigService {
  private readonly probeTimeoutMs: number
  private readonly savedListeners = new Set<() => void>()
  private readonly checks: Throttle

  constructor(private readonly options: PlexConfigServiceOptions) {
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5_000
    this.checks = new Throttle(options.clock, options.checksPerMinute ?? 10, 60_000)
  }

  view(): PlexConfigView {
    const current = this.options.plex.settings
    return {
      url: current?.url ?? '',
      server_name: current?.serverName || this.options.defaultServerName,
      token_configured: current !== undefined,
    }
  }

  /** Checks `{url, token}` against the server (`GET /`) and, when it answers, saves it and switches to it. */
  async save(input: { url: string; token: string }): Promise<PlexCheck> {
    const candidate = normalizeInput(input)
    this.checks.take(`${this.checks.max} Plex servers were checked in the last minute, the most this service checks`)
    const check = await this.check(candidate)
    if (!check.valid) return check
    const { plex, settings, clock, logSecrets } = this.options
    logSecrets?.add(candidate.token)
    const stored: StoredPlexSettings = { url: candidate.url, token: candidate.token, server_name: check.serverName }
    await settings.set(PLEX_SETTINGS_KEY, stored, clock.wallNow())
    const current = plex.settings
    if (
      current?.url !== candidate.url ||
      current.token !== candidate.token ||
      current.serverName !== check.serverName
    ) {
      plex.update({ ...candidate, serverName: check.serverName })
    }
    for (const listener of this.savedListeners) listener()
    return check
  }

  /** `listener` runs after each successful save (the row written, this instance switched). */
  onSaved(listener: () => void): () => void {
    this.savedListeners.add(listener)
    return () => this.savedListeners.delete(listener)
  }

  private async check(candidate: PlexSettings): Promise<PlexCheck> {
    try {
      const info = await this.options.plex.probe(candidate).serverInfo(AbortSignal.timeout(this.probeTimeoutMs))
      return { valid: true, serverName: info.friendlyName }
    } catch (error) {
      // A 401 is told: the token is what to fix. Every other failure (refused, timed out, not
      // HTTP, HTTP but not Plex) gets one message, so the answer is no port scanner's oracle.
      if (isPlexError(error) && error.kind === 'auth') {
        return {
          valid: false,
          message: `Plex at ${candidate.url} answered 401: the token is not accepted; copy the X-Plex-Token of an admin account`,
        }
      }
      const why = isPlexError(error) ? error.kind : 'error'
      this.options.logger?.info(
        { url: candidate.url, why, reason: error instanceof Error ? error.message : String(error) },
        'the Plex server check failed',
      )
      return {
        valid: false,
        message: `No Plex server answered at ${candidate.url}: check the address and port (Plex listens on 32400) and that the server is running`,
      }
    }
  }
}

/** Trims the body into settings: an http(s) URL without credentials, query or trailing slash, and a token. */
export function normalizeInput(input: { url: string; token: string }): PlexSettings {
  const raw = input.url.trim()
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PlexConfigInputError(
      'url',
      `"${shorten(raw)}" is not a URL; give the server's address, like http://192.168.1.10:32400`,
    )
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new PlexConfigInputError(
      'url',
      `"${url.protocol}//${url.host}" is not an http(s) URL; give the server's address, like http://192.168.1.10:32400`,
    )
  }
  if (url.username || url.password) {
    throw new PlexConfigInputError(
      'url',
      'must not contain a user name or password; the Plex token goes in the token field',
    )
  }
  const token = input.token.trim()
  if (token === '') throw new PlexConfigInputError('token', 'is empty; give the X-Plex-Token of an admin account')
  if (/\s/.test(token)) throw new PlexConfigInputError('token', 'contains white space; a Plex token is one word')
  // A pasted URL may carry `?X-Plex-Token=...`: the query is dropped, never stored or echoed.
  return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, token }
}

const shorten = (text: string) =>
  (text.length > 80 ? `${text.slice(0, 77)}...` : text).replace(/x-plex-token=[^&#\s]*/gi, 'X-Plex-Token=***')

/**
 * The one place that busts caches when the Plex server changes: `caches` are those whose
 * declarations depend on the server, cleared in memory at once (so the next read misses and
 * loads from the new server), in Redis and on the other instances after.
 */
export function clearCachesOnPlexChange(
  plex: PlexConnection,
  caches: readonly AnyCache[],
  logger?: Logger,
): () => void {
  return plex.onChange(() => {
    const names = caches.map((cache) => cache.name)
    void Promise.all(caches.map((cache) => cache.clear())).then(
      () => logger?.info({ caches: names }, 'Plex server changed: its caches were cleared'),
      (error: unknown) =>
        logger?.warn({ err: error, caches: names }, 'Plex server changed, but clearing its caches failed'),
    )
  })
}

export interface SharePlexSettingsOptions {
  config: Config
  plex: PlexConnection
  settings: SettingsRepo
  service: PlexConfigService
  topics: TopicBus
  logSecrets?: LogSecrets
  logger?: Logger
}

/**
 * Several instances share one settings table: a save here is announced (the topic alone, so no
 * token reaches Redis) and every other instance re-reads the row and switches, which clears its
 * Plex caches through `clearCachesOnPlexChange`. An instance whose subscription came back after a
 * loss re-reads too, as it may have missed an announcement. Returns the stop function.
 */
export function sharePlexSettings(options: SharePlexSettingsOptions): () => void {
  const { topics, logger } = options
  const stopAnnouncing = options.service.onSaved(() => void topics.announce(PLEX_SETTINGS_TOPIC))
  const stopFollowing = topics.onTopic(PLEX_SETTINGS_TOPIC, () => {
    reloadPlexSettings(options).then(
      (switched) => {
        if (switched)
          logger?.info(
            { url: options.plex.settings?.url },
            'Plex settings changed on another instance: switched to the saved server',
          )
      },
      (error: unknown) =>
        logger?.warn(
          { err: error },
          'Plex settings changed on another instance, but re-reading them failed; keeping the current server',
        ),
    )
  })
  return () => {
    stopAnnouncing()
    stopFollowing()
  }
}

/**
 * Re-reads the saved (else environment) Plex settings and switches to them when they differ from
 * the ones in use; the same settings change nothing (no cache is cleared). True when it switched.
 */
export async function reloadPlexSettings(
  options: Pick<SharePlexSettingsOptions, 'config' | 'settings' | 'plex' | 'logSecrets'>,
): Promise<boolean> {
  const next = await initialPlexSettings(options.config, options.settings)
  const current = options.plex.settings
  if (current?.url === next?.url && current?.token === next?.token && current?.serverName === next?.serverName)
    return false
  options.logSecrets?.add(next?.token)
  options.plex.update(next)
  return true
}
