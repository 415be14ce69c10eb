import type { Cache, CacheDeclaration, CachePolicy, Serialized } from '../../cache/index.js'
import type { JsonSchema } from '../../json-schema.js'
import { arrayOf, emptyArray, int, object, str } from '../../json-schema.js'
import type { Repos } from '../../db/index.js'
import type { Logger } from '../../logger.js'
import type { PlayingNotification, ActivityNotification, TimelineEntry, TranscodeSession } from '../../plex/index.js'
import type { PlexConnection } from '../../plex/plex-connection.js'
import type { HistoryPages } from '../history/history-pages.js'
import type { Viewer } from '../viewers/viewer.js'
import type { DashboardSnapshot } from '../stats/dashboard-snapshot.js'

/**
 * Everything about one cache of the service, in one place: the core's declaration (name, key,
 * loader, policy), where its TTL comes from, what makes it wrong (a Plex server change, Plex
 * notifications) and the routes that serve it. The catalogue (`index.ts`) lists them; config,
 * push handling, config-change clearing, cache stats, clear and warm iterate over it.
 */
export interface CacheSpec<V, A = void> {
  /** The name in stats, clears and logs: `plex_sessions`. */
  readonly name: string
  /** The key in memory and Redis (and the prefix of keyed entries): `plex:sessions`. Never a secret. */
  readonly key: string
  readonly ttl: TtlSetting
  /** How the value depends on the configured Plex server; absent when it does not. */
  readonly plexServer?: PlexDependence
  /** Shared through Redis with the other instances. Default true. */
  readonly shared?: boolean
  /** Other knobs of the cache core (e.g. `refreshAhead: false` for a cache a job recomputes). */
  readonly policy?: Partial<Omit<CachePolicy, 'shared'>>
  /** Plex notifications that make the held value wrong, and what each does to it. */
  readonly push?: readonly PushRule<V>[]
  /**
   * While the stream keeps this cache current, a value that is read is refetched once its fetch
   * is this old, for what PMS does not push. Default REFETCH_AFTER_MS (two minutes); never less
   * than the TTL.
   */
  readonly refetchAfterSeconds?: number
  /** The GET routes answered from this cache. */
  readonly routes?: readonly CachedRoute<A>[]
  /** What a signed-in viewer gets from this cache's routes; absent: the routes are the admin's only. */
  readonly viewers?: ViewerAccess<V, A>
  /** For a keyed cache: the suffix of an entry's key, `key + ':' + keyOf(args)`. */
  keyOf?(args: A, deps: CacheDeps): string
  /** For a keyed cache: what a warm loads when no key is held. */
  readonly warmArgs?: readonly A[]
  /** For a keyed cache: how many keys and bytes it holds in each tier (defaults in cache/policy.ts). */
  readonly bounds?: Pick<CacheDeclaration<V, A>, 'maxKeys' | 'maxBytes' | 'variantMaxStaleMs'>
  /**
   * Loads the value; it must have a JSON form, or be handed over serialized (`Serialized`, made
   * off the event loop). Honour `signal` (timeout, shutdown).
   */
  load(deps: CacheDeps, args: A, signal: AbortSignal): Promise<V | Serialized<V>> | V | Serialized<V>
}

/** A cache of any value, as the catalogue lists it. */
export type AnyCacheSpec = CacheSpec<unknown, unknown>

/** The environment variable holding a cache's TTL in seconds, and its default. */
export interface TtlSetting {
  readonly env: string
  readonly defaultSeconds: number
}

/**
 * - `fetched`: loaded from the Plex server: cleared when the server changes, refreshed when the
 *   notification stream reconnects (anything may have changed meanwhile).
 * - `derived`: built from what the server said or from its address (image links, totals):
 *   cleared when the server changes.
 */
export type PlexDependence = 'fetched' | 'derived'

/** A change Plex announced, as push handling names it. */
export type PlexChange =
  /** Every player report (about every 10 s per player, and on start, pause, resume, seek, stop): state and position. */
  | { readonly name: 'playing'; readonly items: readonly PlayingNotification[] }
  /** A session started, paused, resumed, buffered or stopped (a progress report of the same state is not one). */
  | { readonly name: 'playing.state'; readonly items: readonly PlayingNotification[] }
  | {
      readonly name: 'transcodeSession.start' | 'transcodeSession.update' | 'transcodeSession.end'
      readonly sessions: readonly TranscodeSession[]
    }
  | { readonly name: 'activity'; readonly items: readonly ActivityNotification[] }
  /** Media finished processing (new) or was deleted. */
  | { readonly name: 'timeline.library'; readonly entries: readonly TimelineEntry[] }

export type PlexChangeName = PlexChange['name']

/**
 * What a matching change does to a cache holding a `V`.
 * - `refresh`: reload in the background (debounced: a burst costs one reload), readers keep the
 *   held value meanwhile.
 *   With `everyChange`, the rule's changes are the only ways the value changes (PMS pushes
 *   each of them): the stream keeps the cache current, as with a patch rule.
 * - `patch`: the change carries the new facts: `apply` gives the value a reload at that moment
 *   would give (never changing the one it is given), with no Plex call; undefined when it cannot
 *   tell (a session it does not hold, a stop), and the cache reloads instead.
 *
 * A cache the stream keeps current (a patch rule, or a refresh rule with `everyChange`) needs no
 * TTL reload while the stream is up: its value is confirmed instead, and a value that is read
 * reloads once its fetch is two minutes old (or its TTL, if longer), for what is not pushed
 * (`PushInvalidation`).
 */
export type PushAction<V> =
  | { readonly kind: 'refresh'; readonly everyChange?: boolean }
  | { readonly kind: 'patch'; apply(value: V, change: PlexChange): V | undefined }

export interface PushRule<V> {
  readonly on: readonly PlexChangeName[]
  readonly action: PushAction<V>
}

/** The rule most caches need: reload in the background when any of `names` arrives. */
export function refreshOn<V>(...names: PlexChangeName[]): PushRule<V> {
  return { on: names, action: { kind: 'refresh' } }
}

/**
 * Reload in the background when any of `names` arrives, and only then while the stream is up:
 * PMS pushes every change of the value as one of `names`, so it is confirmed instead of
 * reloaded on its TTL (see `PushAction`).
 */
export function refreshOnlyOn<V>(...names: PlexChangeName[]): PushRule<V> {
  return { on: names, action: { kind: 'refresh', everyChange: true } }
}

/** Patch the held value from the changes `names`, with `apply` (see `PushAction`). */
export function patchOn<V>(
  names: readonly PlexChangeName[],
  apply: (value: V, change: PlexChange) => V | undefined,
): PushRule<V> {
  return { on: names, action: { kind: 'patch', apply } }
}

/**
 * A viewer's answer, cached in the viewer's scope by the cache core (the key holds a hash of the
 * viewer, the ETag names the scope):
 * - `view`: derived from the value loaded once for everybody (`view(value, viewer)`), so any
 *   number of viewers cost the upstream what the admin alone costs;
 * - `own`: loaded for the viewer, with the route's arguments narrowed to what they may see;
 *   `forbidden` (a 403 with that detail) when they ask for someone else's.
 */
export type ViewerAccess<V, A> =
  | { readonly kind: 'view'; view(value: V, viewer: Viewer): V }
  | { readonly kind: 'own'; args(args: A, viewer: Viewer): { readonly args: A } | { readonly forbidden: string } }

/** One GET route answered from a cache through `http/cached-routes.ts`. */
export interface CachedRoute<A> {
  /** The path, and any alias of it. */
  readonly paths: readonly string[]
  /** Answered without credentials when auth is on. */
  readonly public?: boolean
  /** What the cache holds, for the error detail: `Could not load <what>: ...`. */
  readonly what: string
  /** One line for the OpenAPI document (`/openapi.json`). */
  readonly summary: string
  /** The JSON Schema of the value (an object's fields, or the array); the route adds the cache fields. */
  readonly body: JsonSchema
  /** The JSON Schema of the `notConfigured` answer, when the route has one. */
  readonly notConfiguredBody?: JsonSchema
  /**
   * A top-level field of the value that the route never answers: held (and shared through
   * Redis) for viewers' views and for other caches, e.g. per-section totals. The admin's answer
   * and its ETag are those of the value without it.
   */
  readonly internal?: string
  /** `array` bodies are sent as stored; `object` bodies get `cached`, `cache_age`, `timestamp`, `stale`. */
  readonly shape?: 'object' | 'array'
  /** The answer while no Plex server is configured, without touching the cache; absent: served regardless. */
  notConfigured?(deps: CacheDeps): object | Promise<object>
  /** Fields a failed answer carries beside `detail`/`message` (e.g. `error: true, sessions: []`). */
  readonly failureFields?: Readonly<Record<string, unknown>>
  /** A keyed cache's query string: its JSON schema (validated, defaults filled in) and the args it gives. */
  readonly query?: RouteQuery<A>
  /** Runs on every request before the read (the dashboard marks itself in demand). */
  onRequest?(deps: CacheDeps): void
  /**
   * Whether a miss of these args costs the service real work (a history page of 5,000 rows):
   * such requests are bounded per client and in all (`HeavyQueries`), a 429 with `Retry-After`
   * past the bounds. Light requests of the same route are never refused.
   */
  heavy?(args: A): boolean
}

export interface RouteQuery<A> {
  readonly schema: object
  args(query: Readonly<Record<string, unknown>>): A
}

/** `{error: false, <field>: [...], total}`: the body of Komandorr's sessions, and of lists like it. */
export type PlexList<Field extends string, Item> = { error: false; total: number } & { [F in Field]: Item[] }

/**
 * The route of a cache answering `{error: false, <field>: [...], total}` as Komandorr's sessions
 * do: `{error: false, <field>: [], message}` while no Plex server is configured, and a failure
 * carrying `error: true, <field>: []` beside its detail.
 */
export function plexListRoute(
  path: string,
  what: string,
  field: string,
  summary: string,
  item: JsonSchema,
): CachedRoute<void> {
  const notConfigured = Object.freeze({ error: false, [field]: [], message: 'Plex server not configured' })
  return {
    paths: [path],
    what,
    summary,
    body: object({ error: { const: false }, [field]: arrayOf(item), total: int }),
    notConfiguredBody: object(
      { error: { const: false }, [field]: emptyArray, message: str },
      [],
      'Plex is not configured',
    ),
    notConfigured: () => notConfigured,
    failureFields: { error: true, [field]: [] },
  }
}

/** What loaders and routes may use. */
export interface CacheDeps {
  /** The Plex server in use; `plex.client()` throws while none is configured. */
  readonly plex: PlexConnection
  readonly repos: Repos
  /** Watch-history pages read and serialized off the event loop. */
  readonly historyPages: HistoryPages
  readonly logger: Logger
  /** The server's name: its own once known, else PLEX_SERVER_NAME. */
  serverName(): string
  /** The `background_stats` snapshot maker (a job that also keeps the last Plex totals). */
  readonly dashboard: DashboardSnapshot
  /** Another cache of the catalogue (plex_stats reads the totals of plex_stats_live). */
  readonly cache: CacheLookup
}

/** The defined cache of a declaration. */
export type CacheLookup = <V, A>(spec: CacheSpec<V, A>) => Cache<V, A>

/** Declares a cache: typed by its value and arguments, listed in the catalogue. */
export function declareCache<V, A = void>(spec: CacheSpec<V, A>): CacheSpec<V, A> {
  return Object.freeze(spec)
}
