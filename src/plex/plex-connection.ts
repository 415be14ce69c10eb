import { createHash } from 'node:crypto'
import { createPlexClient, type PlexClient } from './client.js'
import type { PlexAnswerSource, PlexCallObserver } from './http.js'

/** The Plex server the service talks to: from the environment, or saved through the API. */
export interface PlexSettings {
  readonly url: string
  readonly token: string
  /** PLEX_SERVER_NAME, or the server's friendlyName once known. */
  readonly serverName?: string
}

export interface PlexConnectionOptions {
  plexTvUrl?: string
  timeoutMs?: number
  clientIdentifier?: string
  maxResponseBytes?: number
  /** Told of every Plex request of every client this connection makes (metrics). */
  observe?: PlexCallObserver
}

/** Thrown by loaders when no Plex server is configured; routes answer their not-configured forms. */
export class PlexNotConfiguredError extends Error {
  constructor() {
    super('Plex is not configured: set PLEX_SERVER_URL and PLEX_SERVER_TOKEN, or POST /api/plex/config')
    this.name = 'PlexNotConfiguredError'
  }
}

type ChangeListener = (settings: PlexSettings | undefined) => void

/**
 * Holds the current Plex client. A config change swaps the client and tells the listeners
 * (the caches bust themselves); loaders call `client()` at load time, so a load never uses a
 * client older than the settings it was started under by more than that one load.
 */
export class PlexConnection {
  private current: { settings: PlexSettings; client: PlexClient; fingerprint: string } | undefined
  private readonly listeners = new Set<ChangeListener>()
  private version: string | undefined
  private answers: PlexAnswerSource | undefined

  constructor(
    private readonly options: PlexConnectionOptions,
    initial?: PlexSettings,
  ) {
    if (initial) this.current = this.connect(initial)
  }

  get configured(): boolean {
    return this.current !== undefined
  }

  /** The settings without anything secret-bearing beyond what the caller asks for. */
  get settings(): PlexSettings | undefined {
    return this.current?.settings
  }

  /** A hash of URL and token: safe in a cache key, changes whenever either does. */
  get fingerprint(): string {
    return this.current?.fingerprint ?? 'none'
  }

  /** The server's version as last reported (`/identity`), for metrics; undefined until then. */
  get serverVersion(): string | undefined {
    return this.version
  }

  /** A loader that read the server's identity tells its version here. */
  noteServerVersion(version: string): void {
    this.version = version
  }

  client(): PlexClient {
    if (!this.current) throw new PlexNotConfiguredError()
    return this.current.client
  }

  /** A client for settings not yet saved, e.g. to validate them first. */
  probe(settings: PlexSettings): PlexClient {
    return this.connect(settings).client
  }

  update(settings: PlexSettings | undefined): void {
    this.current = settings ? this.connect(settings) : undefined
    this.version = undefined
    for (const listener of this.listeners) listener(settings)
  }

  /**
   * Lets every client of this connection ask `source` before PMS (the PMS mirror, so that one
   * load serves the mirror and the caches that read the same answer); undefined stops it.
   */
  answerFrom(source: PlexAnswerSource | undefined): void {
    this.answers = source
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private connect(settings: PlexSettings) {
    const client = createPlexClient({
      baseUrl: settings.url,
      token: settings.token,
      plexTvUrl: this.options.plexTvUrl,
      timeoutMs: this.options.timeoutMs,
      clientIdentifier: this.options.clientIdentifier,
      maxResponseBytes: this.options.maxResponseBytes,
      observe: this.options.observe,
      answers: (url, headers, signal) => this.answers?.(url, headers, signal),
    })
    const fingerprint = createHash('sha256').update(`${settings.url}\n${settings.token}`).digest('hex').slice(0, 16)
    return { settings, client, fingerprint }
  }
}
