// The client against real PMS replies captured by others (/work/shared/plex-recorded), replayed by
// the kit's own server. JSON is asked for as in production; a second server forced to XML serves
// the recordings that exist only in XML (several session variants are XML-only, and the kit answers
// a JSON request for them with the default JSON recording instead).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Fields } from '../../src/plex/coerce.js'
import {
  PlexAuthError,
  PlexError,
  PlexHttpError,
  PlexResponseError,
  createPlexClient,
  type PlexClient,
} from '../../src/plex/index.js'
import { parseLibraryItems } from '../../src/plex/parse/library.js'
import { xmlToPlexJson } from '../../src/plex/xml.js'
import {
  describeRecorded,
  recordedDir,
  recordedPresent,
  startRecordedServer,
  type RecordedServer,
} from './helpers/recorded-server.js'

const TOKEN = 'recorded-secret-4711'

interface Route {
  path: string
  format: 'json' | 'xml'
  file: string
  variant?: string
  query?: Record<string, (string | null)[]>
}

const dataFile = (file: string) => path.join(recordedDir, 'data', file)
const recordedJson = (file: string) => JSON.parse(readFileSync(dataFile(file), 'utf8')).MediaContainer
const titlesOf = (file: string): string[] => recordedJson(file).Metadata.map((m: { title: string }) => m.title)

async function allItems(client: PlexClient, sectionId: number, type?: number, pageSize = 100) {
  const items = []
  for await (const page of client.sectionItems(sectionId, { type, pageSize })) items.push(...page.items)
  return items
}

describeRecorded('Plex client reading the plex-recorded PMS replies', () => {
  let json: RecordedServer
  let xml: RecordedServer
  const clients = new Map<string, PlexClient>()
  const routes: Route[] = recordedPresent ? JSON.parse(readFileSync(dataFile('routes.json'), 'utf8')).routes : []

  beforeAll(async () => {
    ;[json, xml] = await Promise.all([startRecordedServer(TOKEN), startRecordedServer(TOKEN, ['--format', 'xml'])])
  })
  afterAll(async () => {
    await Promise.all([json?.close(), xml?.close()])
  })

  // metadataBatchSize 1: the kit records /library/metadata/{one key} only.
  function client(server: RecordedServer, variant?: string): PlexClient {
    const id = `${server.url}|${variant ?? ''}`
    let c = clients.get(id)
    if (!c) {
      c = createPlexClient({
        baseUrl: `${server.url}/`,
        token: TOKEN,
        metadataBatchSize: 1,
        extraHeaders: variant ? { 'X-Recorded-Variant': variant } : {},
      })
      clients.set(id, c)
    }
    return c
  }

  describe('server', () => {
    it('reads GET / (recorded in XML, converted to JSON by the kit) and the same reply as raw XML identically', async () => {
      const info = await client(json).serverInfo()
      expect(info).toMatchObject({
        friendlyName: 'Plex Server 1',
        machineIdentifier: 'unique_id_123',
        version: '1.20.4.3517-ab5e1197c',
        platform: 'Linux',
        platformVersion: '20.04.1 LTS (Focal Fossa)',
        myPlex: true,
        myPlexUsername: 'myplexusername@email.com',
        myPlexSubscription: true,
        transcoderActiveVideoSessions: 0,
        updatedAt: 1605463238,
      })
      expect(await client(xml).serverInfo()).toEqual(info)
    })

    it('reads /identity, which needs no token', async () => {
      const anonymous = createPlexClient({ baseUrl: json.url, token: 'not-the-token' })
      expect(await anonymous.identity()).toEqual({
        machineIdentifier: '96f2fe7a78c9dc1f16a16bedbe90f98149be16b4',
        version: '1.31.3.6868-28fc46b27',
        claimed: undefined,
      })
    })

    it('rejects an /identity reply without machineIdentifier, naming the field (XML gap: empty container)', async () => {
      const err = await client(xml)
        .identity()
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PlexResponseError)
      expect((err as Error).message).toBe('Plex /identity: MediaContainer.machineIdentifier is missing')
    })

    it('reads /accounts with the system account, the owner and shared users', async () => {
      const accounts = await client(json).accounts()
      expect(accounts.map((a) => [a.id, a.name])).toEqual([
        [0, ''],
        [1, 'User 1'],
        [1000, 'User 1000'],
        [1001, 'User 1001'],
      ])
      expect(accounts[1]).toEqual({ id: 1, name: 'User 1', key: '/accounts/1', thumb: undefined })
      expect(await client(xml).accounts()).toEqual(accounts)
    })

    it('reads /activities, the vendor example with a placeholder Context', async () => {
      const activities = await client(json).activities()
      expect(activities).toEqual([
        {
          uuid: 'd6199ba1-fb5e-4cae-bf17-1a5369c1cf1e',
          type: 'provider.epg.load',
          title: 'Refreshing EPG',
          subtitle: 'Downloaded 173 airings',
          cancellable: false,
          userID: 1,
          progress: 7,
          librarySectionID: undefined,
        },
      ])
      expect(await client(xml).activities()).toEqual(activities)
    })
  })

  describe('library sections', () => {
    it('reads the 14 sections of the default JSON server, keeping titles exactly (trailing space included)', async () => {
      const sections = await client(json).librarySections()
      const recorded = recordedJson('lukehagar-6c561d8/tests/library__get-all-libraries__0.json').Directory
      expect(sections).toHaveLength(14)
      expect(sections.map((s) => [s.id, s.title, s.type])).toEqual(
        recorded.map((d: { key: string; title: string; type: string }) => [Number(d.key), d.title, d.type]),
      )
      const tv = sections.find((s) => s.id === 2)!
      expect(tv.title).toBe('TV Series ')
      expect(tv).toMatchObject({
        type: 'show',
        agent: 'tv.plex.agents.series',
        refreshing: false,
        hidden: false,
        locations: [{ id: 32, path: '/TV Shows' }],
      })
      const docs = sections.find((s) => s.title === 'Movies (Documentaries)')!
      expect(docs.locations.length).toBe(2)
      expect(sections.find((s) => s.id === 9)?.type).toBe('artist')
    })

    it('reads the 5-section variant from another server', async () => {
      const sections = await client(json, 'lh-5-sections').librarySections()
      const recorded = recordedJson('lukehagar-6c561d8/tests/library__get-all-libraries__1.json').Directory
      expect(sections.map((s) => s.title)).toEqual(recorded.map((d: { title: string }) => d.title))
      expect(sections).toHaveLength(5)
      expect(sections[0]).toMatchObject({ id: 4, title: 'Kids Movies', type: 'movie' })
    })

    it('reads the XML section list with string flags and a hidden music section', async () => {
      const sections = await client(xml).librarySections()
      expect(sections.map((s) => [s.id, s.title, s.type, s.hidden])).toEqual([
        [1, 'Movies', 'movie', false],
        [2, 'TV Shows', 'show', false],
        [3, 'Music', 'artist', true],
      ])
      expect(sections[0]).toMatchObject({
        agent: 'com.plexapp.agents.imdb',
        scanner: 'Plex Movie Scanner',
        uuid: '41a28495-035e-46b0-ac84-878f096614da',
        refreshing: false,
        updatedAt: 1602461679,
        scannedAt: 1605409122,
        locations: [{ id: 1, path: '/storage/movies' }],
      })
    })

    const totals: [
      server: 'json' | 'xml',
      section: number,
      type: number,
      variant: string | undefined,
      total: number,
    ][] = [
      ['json', 1, 1, undefined, 341],
      ['json', 2, 4, undefined, 3438],
      ['json', 3, 2, undefined, 26],
      ['json', 1, 1, 'lh-items-0', 358],
      ['json', 1, 1, 'lh-movies-2295', 2295],
      ['json', 1, 2, 'lh-shows-266', 266],
      ['json', 1, 4, 'lh-episodes-479', 479],
      ['json', 1, 1, 'plexapirs', 4],
      ['json', 2, 2, 'plexapirs', 2],
      ['json', 5, 8, 'plexapirs', 2],
      ['json', 9, 1, 'lh-concerts', 7],
      ['json', 15, 9, 'lh-albums-lossless', 99],
      ['xml', 1, 1, undefined, 1],
      ['xml', 2, 4, undefined, 10],
      ['xml', 3, 8, undefined, 1],
      ['xml', 2, 2, undefined, 1],
    ]
    it.each(totals)(
      'counts section items with Size 0 (%s, section %i, type %i, variant %s) → %i',
      async (server, section, type, variant, total) => {
        expect(await client(server === 'json' ? json : xml, variant).sectionTotal(section, type)).toBe(total)
      },
    )

    it('answers 0 for a recorded section without items of that type (empty container)', async () => {
      expect(await client(json).sectionTotal(1, 3)).toBe(0)
    })

    const listings: [section: number, type: number | undefined, variant: string | undefined, file: string][] = [
      [1, 1, undefined, 'lukehagar-6c561d8/tests/library__sectionKey__get-library-all__5.json'],
      [2, 4, undefined, 'lukehagar-6c561d8/tests/library__sectionKey__get-library-items__2.json'],
      [3, 2, undefined, 'lukehagar-6c561d8/tests/library__sectionKey__get-library-items__3.json'],
      [1, 1, 'lh-items-0', 'lukehagar-6c561d8/tests/library__sectionKey__get-library-items__0.json'],
      [1, 1, 'lh-movies-2295', 'lukehagar-6c561d8/tests/library__sectionKey__get-library-all__0.json'],
      [1, 2, 'lh-shows-266', 'lukehagar-6c561d8/tests/library__sectionKey__get-library-all__1.json'],
      [1, 4, 'lh-episodes-479', 'lukehagar-6c561d8/tests/library__sectionKey__get-library-all__2.json'],
      [1, 1, 'plexapirs', 'plex-api-rs-37f2a7f/server/media/movie_library.json'],
      [2, 2, 'plexapirs', 'plex-api-rs-37f2a7f/server/media/tv_library.json'],
      [3, undefined, 'plexapirs', 'plex-api-rs-37f2a7f/server/media/photo_library.json'],
      [5, 8, 'plexapirs', 'plex-api-rs-37f2a7f/server/media/music_library.json'],
      [9, 1, 'lh-concerts', 'lukehagar-6c561d8/tests/library__sectionKey__get-library-all__4.json'],
      [15, 9, 'lh-albums-lossless', 'lukehagar-6c561d8/tests/library__sectionKey__get-library-all__3.json'],
    ]
    it.each(listings)(
      'lists every recorded item of section %i type %s (variant %s) page by page',
      async (section, type, variant, file) => {
        const items = await allItems(client(json, variant), section, type)
        const recorded = recordedJson(file)
        expect(items.map((i) => i.title)).toEqual(titlesOf(file))
        expect(items.every((i) => i.ratingKey && /^\d+$/.test(i.ratingKey))).toBe(true)
        expect(new Set(items.map((i) => i.librarySectionID))).toEqual(new Set([recorded.librarySectionID]))
      },
    )

    it('pages through 341 movies in 4 requests of 100 using headers, not the query', async () => {
      await json.resetCounts()
      const pages = []
      for await (const page of client(json).sectionItems(1, { type: 1, pageSize: 100 })) pages.push(page)
      expect(pages.map((p) => [p.offset, p.items.length, p.totalSize])).toEqual([
        [0, 100, 341],
        [100, 100, 341],
        [200, 100, 341],
        [300, 41, 341],
      ])
      expect((await json.counts())['/library/sections/1/all']).toBe(4)
      const logged = json.log.filter((r) => r.path.startsWith('/library/sections/1/all'))
      expect(logged.some((r) => /Container/i.test(r.path))).toBe(false)
      const wicked = pages[0]!.items.find((i) => i.title === '9½ Weeks')!
      expect(wicked).toMatchObject({ ratingKey: '9881', type: 'movie', librarySectionID: 1 })
    })

    it('reads items with version-drifted fields: a show with leaf counts and a 4k movie', async () => {
      const shows = await allItems(client(json), 3, 2)
      expect(shows[0]).toMatchObject({ title: '07-Ghost', type: 'show', ratingKey: '28580', librarySectionID: 3 })
      expect(shows[0]!.leafCount).toBeGreaterThan(0)
      const episodes = await allItems(client(json, 'lh-episodes-479'), 1, 4)
      expect(episodes[0]).toMatchObject({
        title: 'Not Funny',
        type: 'episode',
        grandparentTitle: 'South Park',
        parentRatingKey: '103479',
      })
    })

    it('reads the XML movie and show listings, including a show holding its newest episode', async () => {
      const movies = await allItems(client(xml), 1, 1)
      expect(movies.map((m) => m.title)).toEqual(['Movie 1', 'Movie 2', 'Movie 3', 'Movie 4', 'Movie 5'])
      expect(movies[0]).toMatchObject({
        ratingKey: '1',
        librarySectionID: 1,
        year: 2000,
        rating: 9,
        audienceRating: 9.5,
        duration: 9000000,
        contentRating: 'R',
      })
      const shows = await allItems(client(xml), 2, 2)
      expect(shows).toEqual([
        expect.objectContaining({
          title: 'TV Show',
          type: 'show',
          ratingKey: '30',
          leafCount: 100,
          childCount: 5,
          genres: ['Action', 'Animated'],
        }),
      ])
      const mostRecent = await allItems(client(xml, 'ha-most-recent'), 2, 2)
      expect(mostRecent).toEqual([
        expect.objectContaining({ title: 'TV Show', ratingKey: '20', viewedLeafCount: 0, librarySectionID: 2 }),
      ])
    })

    it('reads the includeMeta count replies the client never asks for, through the same parsers', () => {
      const withMeta = JSON.parse(
        readFileSync(dataFile('lukehagar-6c561d8/tests/library__sectionKey__get-library-items__1.json'), 'utf8'),
      )
      const mc = Fields.root('/library/sections/1/all', withMeta)
      expect(mc.num('totalSize')).toBe(357)
      expect(parseLibraryItems(mc).map((i) => i.title)).toEqual(
        titlesOf('lukehagar-6c561d8/tests/library__sectionKey__get-library-items__1.json'),
      )
      const xmlMeta = xmlToPlexJson(readFileSync(dataFile('home-assistant/library_movies_metadata.xml'), 'utf8'))
      const xmc = Fields.root('/library/sections/1/all', xmlMeta)
      expect(xmc.num('totalSize')).toBe(538)
      expect(parseLibraryItems(xmc)).toEqual([])
    })
  })

  describe('recently added', () => {
    it('reads the JSON global list, coercing a numeric ratingKey and videoResolution to text', async () => {
      const items = await client(json).recentlyAdded({ size: 50 })
      expect(items).toHaveLength(1)
      expect(items[0]).toMatchObject({
        ratingKey: '59398',
        title: 'Ant-Man and the Wasp: Quantumania',
        type: 'movie',
        year: 2023,
        addedAt: 1681803215,
        rating: 4.7,
        librarySectionID: 1,
        studio: 'Marvel Studios',
        genres: ['Comedy'],
      })
      expect(items[0]!.media[0]).toMatchObject({ videoResolution: '1080', bitrate: 3623, selected: false })
      expect(items[0]!.media[0]!.parts[0]).toMatchObject({ id: 120353, size: 3395307162 })
    })

    it('reads the XML global list where a season and an album are grouped Directory items', async () => {
      const items = await client(xml).recentlyAdded({ size: 10 })
      expect(items.map((i) => [i.type, i.title, i.parentTitle])).toEqual([
        ['movie', 'TRON: Legacy', undefined],
        ['season', 'Specials', 'Gold Rush'],
        ['album', 'Angel Milk', 'Télépopmusik'],
      ])
      expect(items[0]!.genres).toEqual(['Action', 'Adventure'])
      expect(items[2]).toMatchObject({ year: 2005, leafCount: 15, viewedLeafCount: 0, ratingKey: undefined })
    })

    it('caps the list at the requested size', async () => {
      expect((await client(xml).recentlyAdded({ size: 2 })).map((i) => i.title)).toEqual(['TRON: Legacy', 'Specials'])
    })

    it('answers an empty list for a section without recordings (empty container)', async () => {
      expect(await client(json).sectionRecentlyAdded(1, { size: 10 })).toEqual([])
      expect(await client(xml).sectionRecentlyAdded(2, { size: 10 })).toEqual([])
    })
  })

  describe('sessions', () => {
    it('reads the JSON direct-play FLAC track session', async () => {
      const [s, ...rest] = await client(json).sessions()
      expect(rest).toEqual([])
      expect(s).toMatchObject({
        sessionKey: '203',
        ratingKey: '67085',
        type: 'track',
        title: 'The American Dream Is Killing Me',
        grandparentTitle: 'Green Day',
        parentTitle: 'Saviors',
        grandparentRatingKey: '39904',
        librarySectionID: 3,
        viewOffset: 1000,
        duration: 186240,
        live: false,
        user: { id: 1, title: 'Blindkitty38' },
        player: {
          state: 'playing',
          product: 'Plex for Windows',
          platform: 'windows',
          local: true,
          relayed: false,
          secure: true,
          address: '10.10.10.171',
        },
        session: { id: '93h7e00ncblxncqw9lkfaoxi', bandwidth: 1050, location: 'lan' },
        transcodeSession: undefined,
      })
      expect(s!.selectedMedia).toMatchObject({
        id: 130355,
        audioCodec: 'flac',
        container: 'flac',
        bitrate: 1014,
        selected: true,
      })
      expect(s!.selectedMedia!.parts).toEqual([
        expect.objectContaining({ id: 130625, decision: 'directplay', selected: true }),
      ])
    })

    it('reads the XML movie session on a SHIELD with 0/1 flags', async () => {
      const [s] = await client(xml).sessions()
      expect(s).toMatchObject({
        sessionKey: '1',
        ratingKey: '1',
        type: 'movie',
        title: 'Movie 1',
        year: 2000,
        librarySectionID: 1,
        viewOffset: 0,
        duration: 9000000,
        user: { id: 1, title: 'User 1' },
        player: {
          state: 'playing',
          device: 'SHIELD Android TV',
          product: 'Plex for Android (TV)',
          local: true,
          relayed: false,
          secure: true,
        },
        session: { id: 'session_id_1', bandwidth: 7000, location: 'lan' },
        transcodeSession: undefined,
      })
      expect(s!.selectedMedia).toMatchObject({
        id: 2637,
        videoResolution: '720p',
        videoCodec: 'h264',
        bitrate: 6000,
        selected: true,
      })
      expect(s!.selectedMedia!.parts[0]!.decision).toBe('transcode')
    })

    it('reads a preroll session (librarySectionID -2)', async () => {
      const [s] = await client(xml, 'ha-transient').sessions()
      expect(s).toMatchObject({
        sessionKey: '95',
        type: 'clip',
        title: 'fancy_preroll',
        librarySectionID: -2,
        duration: 6000,
        ratingKey: '203214',
      })
      expect(s!.selectedMedia).toMatchObject({ videoResolution: 'SD', selected: true })
    })

    it('reads an unknown-item session (librarySectionID -3)', async () => {
      const [s] = await client(xml, 'ha-unknown').sessions()
      expect(s).toMatchObject({
        sessionKey: '999',
        ratingKey: '9876543210',
        title: 'some_unknown_item',
        librarySectionID: -3,
      })
    })

    it('reads two transcoding videos and a track with no ratingKey, user id or Media', async () => {
      const sessions = await client(xml, 'fuzeman').sessions()
      expect(sessions.map((s) => [s.sessionKey, s.type, s.title])).toEqual([
        ['3', 'episode', 'Blind Date'],
        ['5', 'movie', 'The Hobbit The Desolation of Smaug'],
        ['4', 'track', "Don't look back"],
      ])
      expect(sessions[0]).toMatchObject({
        grandparentTitle: '30 Rock',
        index: 3,
        parentIndex: 1,
        viewOffset: 291,
        year: 2006,
        ratingKey: undefined,
      })
      expect(sessions[0]!.transcodeSession).toEqual(
        expect.objectContaining({ throttled: false, progress: 3.2000000476837158, speed: 12.199999809265137 }),
      )
      expect(sessions[2]).toMatchObject({
        grandparentTitle: 'Télépopmusik',
        parentTitle: 'Angel Milk',
        transcodeSession: undefined,
        media: [],
        selectedMedia: undefined,
      })
      expect(sessions[2]!.user).toEqual({ id: undefined, title: 'someone', thumb: undefined })
    })
  })

  describe('transcode sessions', () => {
    it('reads /transcode/sessions: a video transcode, and (variant music) an audio-only one without video fields', async () => {
      const recorded = recordedJson('plex-api-rs-37f2a7f/transcode/video_sessions.json').TranscodeSession[0]
      expect(await client(json).transcodeSessions()).toEqual([
        {
          key: '6c624c15015644a2801002562d2c33e4fdbf54cb',
          speed: recorded.speed,
          progress: recorded.progress,
          throttled: false,
          complete: false,
          duration: 9678688,
          remaining: 8104,
          context: 'static',
          protocol: 'http',
          videoDecision: 'transcode',
          audioDecision: 'transcode',
          container: 'mkv',
          videoCodec: 'h264',
          audioCodec: 'mp3',
          sourceVideoCodec: 'hevc',
          sourceAudioCodec: 'eac3',
          width: 1280,
          height: 720,
          transcodeHwRequested: true,
          transcodeHwFullPipeline: undefined,
        },
      ])
      const [music] = await client(json, 'music').transcodeSessions()
      expect(music).toMatchObject({
        key: 'dfghtybntbretybrtyb',
        context: 'streaming',
        protocol: 'dash',
        audioDecision: 'copy',
        audioCodec: 'mp3',
      })
      expect(music).toMatchObject({
        videoDecision: undefined,
        videoCodec: undefined,
        width: undefined,
        height: undefined,
      })
    })
  })

  describe('history', () => {
    it('reads the history row and stops on the short page although totalSize says 10855', async () => {
      await json.resetCounts()
      const pages = []
      for await (const page of client(json).history({ since: 1_600_000_000, pageSize: 100 })) pages.push(page)
      expect(pages).toHaveLength(1)
      expect(pages[0]!.totalSize).toBe(10855)
      expect(pages[0]!.rows).toEqual([
        expect.objectContaining({
          historyKey: '/status/sessions/history/1',
          ratingKey: '32171',
          deleted: false,
          librarySectionID: 2,
          title: 'The Noise That Blue Makes',
          grandparentTitle: 'Taskmaster',
          type: 'episode',
          index: 1,
          parentIndex: 13,
          viewedAt: 1654139223,
          accountID: 1,
          deviceID: 5,
        }),
      ])
      expect((await json.counts())['/status/sessions/history/all']).toBe(1)
      const logged = json.log.filter((r) => r.path.startsWith('/status/sessions/history/all')).at(-1)!
      expect(decodeURIComponent(logged.path)).toContain('viewedAt>=1600000000')
      expect(logged.path).toContain('sort=viewedAt%3Adesc')
    })

    it('yields no page for an empty history (XML gap)', async () => {
      const pages = []
      for await (const page of client(xml).history()) pages.push(page)
      expect(pages).toEqual([])
    })
  })

  describe('metadata', () => {
    const metadataRoutes = () => routes.filter((r) => /^\/library\/metadata\/\d+$/.test(r.path))

    it('reads every recorded /library/metadata item', async () => {
      const keys = metadataRoutes().map((r) => r.path.split('/').pop()!)
      expect(keys).toHaveLength(9)
      await json.resetCounts()
      const items = await client(json).metadata([...keys, keys[0]!])
      expect(items.map((i) => [i.ratingKey, i.title, i.type])).toEqual(
        metadataRoutes().map((r) => {
          const m = recordedJson(r.file).Metadata[0]
          return [m.ratingKey, m.title, m.type]
        }),
      )
      const counts = await json.counts()
      expect(keys.reduce((n, k) => n + (counts[`/library/metadata/${k}`] ?? 0), 0)).toBe(9)
    })

    it('reads full movie details: duration, rating, studio, genres, 4k media', async () => {
      const [wicked] = await client(json).metadata(['134703'])
      expect(wicked).toMatchObject({
        title: 'Wicked',
        duration: 9610350,
        contentRating: 'PG',
        studio: 'Universal Pictures',
        year: 2024,
        librarySectionID: 3,
        genres: ['Romance', 'Musical', 'Fantasy', 'Drama', 'Family'],
      })
      expect(wicked!.media).toEqual([
        expect.objectContaining({ id: 387322, videoResolution: '4k', bitrate: 25512, selected: false }),
      ])
      const [show] = await client(json).metadata(['44288'])
      expect(show).toMatchObject({
        title: 'Better Call Saul',
        type: 'show',
        studio: 'Sony Pictures Television',
        contentRating: 'TV-MA',
        librarySectionID: 2,
      })
      const [collection, playlist] = await client(json).metadata(['161', '168'])
      expect(collection).toMatchObject({ type: 'collection', title: 'Animation' })
      expect(playlist).toMatchObject({ type: 'playlist', title: 'Movies Since 2007', librarySectionID: undefined })
    })

    it('leaves out keys Plex does not know (404) instead of failing the batch', async () => {
      const items = await client(json).metadata(['108', '99999999'])
      expect(items.map((i) => i.title)).toEqual(['Interstate 60'])
    })

    it('makes no request for an empty key list', async () => {
      await json.resetCounts()
      expect(await client(json).metadata([])).toEqual([])
      expect(await json.counts()).toEqual({})
    })
  })

  describe('errors', () => {
    it('maps 401, 404 and 503 to typed errors without leaking the token', async () => {
      const errors: unknown[] = []
      const wrong = createPlexClient({ baseUrl: json.url, token: 'wrong-token-123456' })
      errors.push(await wrong.sessions().catch((e: unknown) => e))
      expect(errors[0]).toBeInstanceOf(PlexAuthError)
      expect((errors[0] as Error).message).toMatch(/^Plex answered 401: the token is not accepted/)
      errors.push(
        await client(json)
          .sectionTotal(99, 1)
          .catch((e: unknown) => e),
      )
      expect(errors[1]).toBeInstanceOf(PlexHttpError)
      expect(errors[1]).toMatchObject({ kind: 'http', status: 404, endpoint: '/library/sections/99/all' })
      const spare = await startRecordedServer(TOKEN)
      try {
        await spare.control('down')
        errors.push(
          await createPlexClient({ baseUrl: spare.url, token: TOKEN })
            .sessions()
            .catch((e: unknown) => e),
        )
      } finally {
        await spare.close()
      }
      expect(errors[2]).toMatchObject({ kind: 'http', status: 503 })
      for (const err of errors) {
        expect(err).toBeInstanceOf(PlexError)
        const text = `${String(err)} ${(err as Error).stack} ${JSON.stringify(err)} ${String((err as Error).cause)}`
        expect(text).not.toContain(TOKEN)
        expect(text).not.toContain('wrong-token-123456')
      }
    })
  })

  it('served every routed recording of the endpoints the client has', () => {
    const clientPath = (p: string) =>
      [
        '/',
        '/identity',
        '/accounts',
        '/activities',
        '/library/sections',
        '/library/recentlyAdded',
        '/status/sessions',
        '/status/sessions/history/all',
        '/transcode/sessions',
      ].includes(p) ||
      /^\/library\/sections\/\d+\/(all|recentlyAdded)$/.test(p) ||
      /^\/library\/metadata\/\d+$/.test(p)
    // includeMeta=1 replies are read directly above: the client never sends includeMeta.
    const expected = new Set(routes.filter((r) => clientPath(r.path) && !r.query?.includeMeta).map((r) => r.file))
    const served = new Set([...json.log, ...xml.log].filter((r) => r.status === 200).map((r) => r.source))
    const missing = [...expected].filter((f) => !served.has(f))
    expect(missing).toEqual([])
    expect(expected.size).toBeGreaterThanOrEqual(35)
  })
})
