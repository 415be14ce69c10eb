import { afterEach, describe, expect, it } from 'vitest'
import { json, PLEX_TOKEN, type PlexApp, simJson, startService } from '../support/api-harness.js'

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

type Item = { title: string; type: string; year: number | null; poster: string | null; rating: number | null }

describe('GET /api/plex/media/recent', () => {
  it('lists the newest items first across movie and show sections, one entry per show, at most 30', async () => {
    setup = await startService({ plex: true })
    const { control } = setup.sim
    control.advance(3_600)
    const movie = control.addMedia({ type: 'movie', title: 'Newest Movie Here' })
    control.advance(60)
    const episode = control.addMedia({ type: 'episode' })
    const season = await simJson(setup.sim, `/library/metadata/${episode.parentRatingKey}`)
    const showTitle = season.Metadata[0].parentTitle as string
    const showKey = String(season.Metadata[0].parentRatingKey)

    const response = await setup.fetch('/api/plex/media/recent')
    expect(response.status).toBe(200)
    const body = await json(response)
    const media = body.media as Item[]
    expect(media).toHaveLength(30)
    expect(media[0]).toMatchObject({
      title: showTitle,
      type: 'show',
      poster: expect.stringContaining(`/library/metadata/${showKey}/thumb/`),
    })
    expect(media[1]).toEqual({
      title: movie.title,
      type: 'movie',
      year: expect.any(Number),
      poster: expect.stringContaining(`/library/metadata/${movie.ratingKey}/thumb/`),
      rating: expect.any(Number),
    })
    expect(new Set(media.map((m) => m.type))).toEqual(new Set(['movie', 'show']))
    const shows = media.filter((m) => m.type === 'show').map((m) => m.title)
    expect(new Set(shows).size).toBe(shows.length)
    for (const item of media) expect(item.poster!.startsWith(`${setup.sim.url}/library/metadata/`)).toBe(true)
    expect(JSON.stringify(body)).not.toContain(PLEX_TOKEN)
  })

  it('is cached: the second read is a hit that costs Plex nothing', async () => {
    setup = await startService({ plex: true })
    await setup.fetch('/api/plex/media/recent')
    const before = setup.sim.control.totalRequests()
    expect((await setup.fetch('/api/plex/media/recent')).headers.get('x-cache')).toBe('HIT')
    expect(setup.sim.control.totalRequests()).toBe(before)
  })

  it('is open without credentials when auth is on', async () => {
    setup = await startService({
      plex: true,
      env: { ENABLE_AUTH: 'true', AUTH_USERNAME: 'admin', AUTH_PASSWORD: 'secret-pass' },
    })
    expect((await setup.fetch('/api/plex/media/recent')).status).toBe(200)
  })

  it('answers {items: [], not_configured: true} without a Plex server', async () => {
    setup = await startService({ plex: true, configured: false })
    const response = await setup.fetch('/api/plex/media/recent')
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({ items: [], not_configured: true })
    expect(setup.sim.control.totalRequests()).toBe(0)
  })
})
