import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { get, getJson, getXml, parseXml, type Json } from './helpers.js'

let sim: RunningSimulator

beforeAll(async () => {
  sim = await startSimulator({ port: 0, speed: 0, items: 800, seed: 7 })
})

afterAll(async () => {
  await sim.close()
})

describe('auth and formats', () => {
  it('answers /identity without a token', async () => {
    const body = await getJson(sim, '/identity', { token: null })
    expect(body.MediaContainer).toMatchObject({ size: 0, claimed: true, machineIdentifier: sim.machineIdentifier })
  })

  it('answers a missing or wrong token with 401 and the PMS HTML page, even when JSON is asked', async () => {
    for (const token of [null, 'wrong']) {
      const res = await get(sim, '/status/sessions', { token, json: true })
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toContain('text/html')
      const text = await res.text()
      expect(text).toContain('<title>Unauthorized</title>')
      expect(text).toContain('<h1>401 Unauthorized</h1>')
    }
  })

  it('accepts the token as a query parameter', async () => {
    const res = await get(sim, `/accounts?X-Plex-Token=${sim.token}`, { token: null })
    expect(res.status).toBe(200)
  })

  it('serves XML by default with every attribute a string, JSON on Accept: application/json', async () => {
    const res = await get(sim, '/library/sections')
    expect(res.headers.get('content-type')).toContain('text/xml')
    const text = await res.text()
    expect(text.startsWith('<?xml')).toBe(true)
    const xml = parseXml(text)
    const dir = xml.MediaContainer.Directory[0]
    expect(dir.hidden).toMatch(/^[01]$/)
    expect(dir.refreshing).toMatch(/^[01]$/)
    const json = await getJson(sim, '/library/sections')
    const jdir = json.MediaContainer.Directory[0]
    expect(typeof jdir.refreshing).toBe('boolean')
    expect(typeof jdir.hidden).toBe('number')
    expect(jdir.Location[0].path).toBe(dir.Location[0].path)
  })

  it('answers unknown paths with 404 HTML', async () => {
    const res = await get(sim, '/no/such/thing')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('text/html')
  })
})

describe('containers and paging', () => {
  it('sends an empty container without any array key', async () => {
    const res = await get(sim, '/library/sections/5/all?type=4', { json: true })
    const body: Json = await res.json()
    expect(Object.keys(body.MediaContainer)).not.toContain('Metadata')
    expect(body.MediaContainer.size).toBe(0)
    const xml = await (await get(sim, '/library/sections/5/all?type=4')).text()
    expect(xml).toMatch(/<MediaContainer size="0"[^>]*>\n<\/MediaContainer>/)
  })

  it('counts a section type with container size 0: totalSize only, matching the library', async () => {
    const state = sim.control.state()
    const shows = state.library.sections.find((s) => s.id === 2)!
    for (const type of [2, 3, 4]) {
      const res = await get(sim, `/library/sections/2/all?type=${type}&includeCollections=0`, {
        json: true,
        start: 0,
        size: 0,
      })
      expect(res.headers.get('x-plex-container-total-size')).toBe(String(shows.counts[String(type)]))
      const body: Json = await res.json()
      expect(body.MediaContainer).toMatchObject({ size: 0, totalSize: shows.counts[String(type)], offset: 0 })
      expect(body.MediaContainer.Metadata).toBeUndefined()
    }
    expect(shows.counts['4']).toBeGreaterThan(shows.counts['2']!)
  })

  it('pages by the container headers and ignores the query form when type= is set', async () => {
    const first = await getJson(sim, '/library/sections/1/all?type=1', { start: 0, size: 5 })
    const second = await getJson(sim, '/library/sections/1/all?type=1', { start: 5, size: 5 })
    expect(first.MediaContainer.size).toBe(5)
    expect(second.MediaContainer.offset).toBe(5)
    expect(second.MediaContainer.Metadata[0].ratingKey).not.toBe(first.MediaContainer.Metadata[0].ratingKey)
    const total = first.MediaContainer.totalSize
    const queryForm = await getJson(
      sim,
      '/library/sections/1/all?type=1&X-Plex-Container-Start=0&X-Plex-Container-Size=2',
    )
    expect(queryForm.MediaContainer.size).toBe(total)
    const queryNoType = await getJson(sim, '/library/sections/1/all?X-Plex-Container-Start=0&X-Plex-Container-Size=2')
    expect(queryNoType.MediaContainer.size).toBe(2)
  })

  it('lists items of each type under Metadata in JSON with string ratingKeys and numeric librarySectionID on the container', async () => {
    const body = await getJson(sim, '/library/sections/3/all?type=9', { start: 0, size: 3 })
    expect(body.MediaContainer.librarySectionID).toBe(3)
    for (const m of body.MediaContainer.Metadata) {
      expect(m.type).toBe('album')
      expect(typeof m.ratingKey).toBe('string')
    }
    const xml = await getXml(sim, '/library/sections/3/all?type=9', { start: 0, size: 3 })
    expect(xml.MediaContainer.Directory).toHaveLength(3)
  })
})

describe('endpoints', () => {
  it('lists accounts with the system account 0, the owner 1 and shared users by plex.tv id', async () => {
    const body = await getJson(sim, '/accounts')
    const ids: number[] = body.MediaContainer.Account.map((a: { id: number }) => a.id)
    expect(ids.slice(0, 2)).toEqual([0, 1])
    expect(ids.slice(2).every((id) => id >= 1_000_000)).toBe(true)
  })

  it('serves server info on / with friendlyName, machineIdentifier and version', async () => {
    const xml = await getXml(sim, '/')
    expect(xml.MediaContainer).toMatchObject({
      friendlyName: 'Komandorr Sim',
      machineIdentifier: sim.machineIdentifier,
      platform: 'Linux',
    })
    expect(xml.MediaContainer.version).toMatch(/^\d+\.\d+\.\d+\.\d+-[0-9a-f]+$/)
  })

  it('returns several items for comma-separated ratingKeys, skipping unknown ones', async () => {
    const list = await getJson(sim, '/library/sections/1/all?type=1', { start: 0, size: 3 })
    const keys: string[] = list.MediaContainer.Metadata.map((m: { ratingKey: string }) => m.ratingKey)
    const body = await getJson(sim, `/library/metadata/${keys.join(',')},99999999`)
    expect(body.MediaContainer.size).toBe(3)
    expect(body.MediaContainer.Metadata.map((m: { ratingKey: string }) => m.ratingKey)).toEqual(keys)
    const movie = body.MediaContainer.Metadata[0]
    expect(movie).toHaveProperty('duration')
    expect(movie).toHaveProperty('contentRating')
    expect(movie).toHaveProperty('studio')
    expect(movie).toHaveProperty('summary')
    expect(movie.Genre.length).toBeGreaterThan(0)
    expect((await get(sim, '/library/metadata/99999999')).status).toBe(404)
  })

  it('groups new episodes into their season and new tracks into their album in the global recentlyAdded', async () => {
    const episode = sim.control.addMedia({ type: 'episode' })
    const track = sim.control.addMedia({ type: 'track' })
    const body = await getJson(sim, '/library/recentlyAdded', { start: 0, size: 10 })
    const items = body.MediaContainer.Metadata
    const types = items.map((m: { type: string }) => m.type)
    expect(types).not.toContain('episode')
    expect(types).not.toContain('track')
    const keys = items.map((m: { ratingKey: string }) => m.ratingKey)
    expect(keys).toContain(episode.parentRatingKey)
    expect(keys).toContain(track.parentRatingKey)
    const perSection = await getJson(sim, '/library/sections/2/recentlyAdded', { start: 0, size: 1 })
    expect(perSection.MediaContainer.Metadata[0]).toMatchObject({
      ratingKey: episode.ratingKey,
      type: 'episode',
      grandparentTitle: expect.any(String),
    })
  })

  it('keeps only six fields on history rows of deleted items', async () => {
    const body = await getJson(sim, '/status/sessions/history/all?sort=viewedAt:desc')
    const rows: Record<string, unknown>[] = body.MediaContainer.Metadata
    const reduced = rows.filter((r) => r.ratingKey === undefined)
    expect(reduced.length).toBeGreaterThan(0)
    for (const r of reduced)
      expect(Object.keys(r).sort()).toEqual([
        'accountID',
        'historyKey',
        'librarySectionID',
        'title',
        'type',
        'viewedAt',
      ])
    const full = rows.find((r) => r.ratingKey !== undefined)!
    expect(full).toMatchObject({
      key: expect.any(String),
      librarySectionID: expect.any(String),
      accountID: expect.any(Number),
      deviceID: expect.any(Number),
    })
  })

  it('filters history by viewedAt>=, accountID and librarySectionID, sorted newest first and paged', async () => {
    const all = await getJson(sim, '/status/sessions/history/all?sort=viewedAt:desc', { start: 0, size: 0 })
    const total = all.MediaContainer.totalSize
    const page = await getJson(sim, '/status/sessions/history/all?sort=viewedAt:desc', { start: 0, size: 50 })
    const viewed: number[] = page.MediaContainer.Metadata.map((r: { viewedAt: number }) => r.viewedAt)
    expect([...viewed].sort((a, b) => b - a)).toEqual(viewed)
    const cutoff = viewed[20]!
    const recent = await getJson(sim, `/status/sessions/history/all?sort=viewedAt:desc&viewedAt>=${cutoff}`, {
      start: 0,
      size: 1000,
    })
    expect(recent.MediaContainer.Metadata.every((r: { viewedAt: number }) => r.viewedAt >= cutoff)).toBe(true)
    expect(recent.MediaContainer.totalSize).toBeLessThan(total)
    const owner = await getJson(sim, '/status/sessions/history/all?accountID=1', { start: 0, size: 1000 })
    expect(owner.MediaContainer.totalSize).toBeGreaterThan(0)
    expect(owner.MediaContainer.Metadata.every((r: { accountID: number }) => r.accountID === 1)).toBe(true)
    const music = await getJson(sim, '/status/sessions/history/all?librarySectionID=3', { start: 0, size: 1000 })
    expect(music.MediaContainer.Metadata.every((r: { librarySectionID: string }) => r.librarySectionID === '3')).toBe(
      true,
    )
  })

  it('shows sessions with User, Player, Session, TranscodeSession only when transcoding, and one selected Media', async () => {
    const body = await getJson(sim, '/status/sessions')
    const sessions = body.MediaContainer.Metadata
    expect(sessions.length).toBeGreaterThan(0)
    for (const s of sessions) {
      expect(s.sessionKey).toMatch(/^\d+$/)
      expect(s.User).toMatchObject({ id: expect.any(String), title: expect.any(String) })
      expect(s.Player).toMatchObject({
        state: expect.stringMatching(/^(playing|paused|buffering)$/),
        local: expect.any(Boolean),
      })
      expect(s.Session).toMatchObject({ location: expect.stringMatching(/^(lan|wan)$/) })
      expect(s.Media.filter((m: { selected?: boolean }) => m.selected === true)).toHaveLength(1)
    }
    const info = sim.control.state().sessions
    for (const s of sessions) {
      const known = info.find((i) => i.sessionKey === s.sessionKey)!
      expect(s.TranscodeSession !== undefined).toBe(known.transcoding)
    }
    expect(sessions.some((s: { Media: unknown[] }) => s.Media.length === 2)).toBe(true)
  })

  it('covers the odd sessions: live TV without ratingKey, prerolls in section -2, unknown in -3, music and photos', async () => {
    const started = ['livetv', 'preroll', 'unknown', 'track', 'photo'].map((kind) =>
      sim.control.startSession({ kind: kind as never }),
    )
    const body = await getJson(sim, '/status/sessions')
    const byKey = new Map<string, Record<string, unknown>>(
      body.MediaContainer.Metadata.map((m: { sessionKey: string }) => [m.sessionKey, m]),
    )
    const [live, preroll, unknown, track, photo] = started.map((s) => byKey.get(s.sessionKey)!)
    expect(live!.ratingKey).toBeUndefined()
    expect(preroll!.librarySectionID).toBe('-2')
    expect(unknown!.librarySectionID).toBe('-3')
    expect(track!.type).toBe('track')
    expect(photo!.type).toBe('photo')
    const xml = await getXml(sim, '/status/sessions')
    expect(xml.MediaContainer.Track.length).toBeGreaterThan(0)
    expect(xml.MediaContainer.Photo.length).toBeGreaterThan(0)
    for (const s of started) sim.control.stopSession(s.sessionKey)
  })

  it('lists activities with progress and a Context naming the section', async () => {
    const a = sim.control.startActivity({ type: 'library.update.section', librarySectionID: 1 })
    const body = await getJson(sim, '/activities')
    const found = body.MediaContainer.Activity.find((x: { uuid: string }) => x.uuid === a.uuid)
    expect(found).toMatchObject({ type: 'library.update.section', progress: 0, Context: { librarySectionID: '1' } })
    sim.control.endActivity(a.uuid)
  })

  it('answers the plex.tv shared_servers call with one SharedServer per shared user, in XML', async () => {
    const res = await fetch(
      `${sim.url}/api/servers/${sim.machineIdentifier}/shared_servers?X-Plex-Token=${sim.token}`,
      { headers: { Accept: 'application/json' } },
    )
    expect(res.status).toBe(200)
    const xml = parseXml(await res.text())
    const shared = xml.MediaContainer.SharedServer
    expect(shared).toHaveLength(sim.control.state().sharedUsers)
    expect(shared[0]).toMatchObject({ userID: expect.stringMatching(/^\d+$/), username: expect.any(String) })
    expect(
      (await fetch(`${sim.url}/api/servers/${sim.machineIdentifier}/shared_servers?X-Plex-Token=bad`)).status,
    ).toBe(401)
    expect((await fetch(`${sim.url}/api/servers/nope/shared_servers?X-Plex-Token=${sim.token}`)).status).toBe(404)
  })

  it('serves real PNG images for thumbs and art', async () => {
    const list = await getJson(sim, '/library/sections/1/all?type=1', { start: 0, size: 1 })
    const thumb: string = list.MediaContainer.Metadata[0].thumb
    for (const path of [thumb, list.MediaContainer.Metadata[0].art as string]) {
      const res = await get(sim, path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('image/png')
      const bytes = Buffer.from(await res.arrayBuffer())
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    }
    expect((await get(sim, thumb, { token: null })).status).toBe(401)
  })
})
