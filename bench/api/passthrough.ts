// The "before": Komandorr without a working cache, i.e. every request goes to Plex. The same
// routes and the same Plex calls as the service's loaders, made on every request.
import Fastify from 'fastify'
import { activityItem, sessionActivityItem } from '../../src/features/caches/activities.js'
import { countUsers, fetchLibraryTotals } from '../../src/plex/library-totals.js'
import { sessionView, showArtwork } from '../../src/features/caches/sessions.js'
import { createPlexClient } from '../../src/plex/index.js'

export interface PassThrough {
  readonly url: string
  close(): Promise<void>
}

export async function startPassThrough(plexUrl: string, token: string): Promise<PassThrough> {
  const client = createPlexClient({ baseUrl: plexUrl, token, plexTvUrl: plexUrl, timeoutMs: 30_000 })
  const app = Fastify({ logger: false })
  const signal = () => AbortSignal.timeout(30_000)

  app.get('/api/plex/activities', async () => {
    const s = signal()
    const [activities, sessions] = await Promise.all([client.activities(s), client.sessions(s)])
    return { error: false, activities: [...activities.map(activityItem), ...sessions.map(sessionActivityItem)] }
  })
  app.get('/api/plex/sessions', async () => {
    const s = signal()
    const sessions = await client.sessions(s)
    const shows = await showArtwork(client, sessions, s)
    const views = sessions.map((session) => sessionView(session, client.baseUrl, shows))
    return { error: false, sessions: views, total: views.length }
  })
  app.get('/api/plex/stats/live', async () => {
    const s = signal()
    const [accounts, totals] = await Promise.all([client.accounts(s), fetchLibraryTotals(client, s)])
    return {
      total_users: countUsers(accounts),
      total_movies: totals.movies,
      total_tv_shows: totals.shows,
      total_episodes: totals.episodes,
    }
  })
  app.get('/api/plex/users/count', async () => {
    const s = signal()
    const { machineIdentifier } = await client.identity(s)
    const shares = await client.sharedServers(machineIdentifier, s)
    return { count: new Set(shares.map((share) => share.userID)).size }
  })

  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
}
