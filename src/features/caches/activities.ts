import type { Activity, PlaybackSession } from '../../plex/index.js'
import { anyJson, arrayOf, emptyArray, num, object, str } from '../../json-schema.js'
import { declareCache, refreshOn } from './declaration.js'
import { playbackProgress } from './sessions.js'

/** One entry of `GET /api/plex/activities` (Komandorr's shape). */
export interface ActivityItem {
  uuid: string
  title: string
  subtitle: string
  /** A PMS activity type (`library.update.section`, ...), or pause | transcode | stream for a session. */
  type: string
  progress: number
  raw_data: unknown
}

export interface ActivitiesValue {
  error: false
  activities: ActivityItem[]
}

export const ACTIVITIES_NOT_CONFIGURED = Object.freeze({ error: true, message: 'Plex not configured', activities: [] })

/** `plex_activities`: PMS background activities, then one entry per playing session. */
export const activitiesCache = declareCache<ActivitiesValue>({
  name: 'plex_activities',
  key: 'plex:activities',
  ttl: { env: 'CACHE_ACTIVITIES_TTL', defaultSeconds: 5 },
  plexServer: 'fetched',
  push: [refreshOn('playing.state', 'transcodeSession.start', 'transcodeSession.end', 'activity')],
  routes: [
    {
      // Komandorr's frontend reads the activities through the older `/api/downloads` too.
      paths: ['/api/plex/activities', '/api/downloads'],
      what: 'Plex activities',
      summary: 'Plex background activities, then the playing sessions (cached: plex_activities)',
      body: object({ error: { const: false }, activities: arrayOf(object({ uuid: str, title: str, subtitle: str, type: str, progress: num, raw_data: anyJson })) }),
      notConfiguredBody: object({ error: { const: true }, message: str, activities: emptyArray }, [], 'Plex is not configured'),
      notConfigured: () => ACTIVITIES_NOT_CONFIGURED,
      failureFields: { error: true, activities: [] },
    },
  ],
  async load({ plex }, _args, signal) {
    const client = plex.client()
    const [activities, sessions] = await Promise.all([client.activities(signal), client.sessions(signal)])
    return { error: false, activities: [...activities.map(activityItem), ...sessions.map(sessionActivityItem)] }
  },
})

export function activityItem(activity: Activity): ActivityItem {
  return {
    uuid: activity.uuid,
    title: activity.title || 'Unknown',
    subtitle: activity.subtitle ?? '',
    type: activity.type || 'download',
    // PMS sends -1 while the progress is unknown; passed on as PMS says it.
    progress: activity.progress,
    raw_data: rawActivity(activity),
  }
}

export function sessionActivityItem(session: PlaybackSession): ActivityItem {
  return {
    uuid: session.sessionKey,
    title: session.type === 'episode' && session.grandparentTitle ? session.grandparentTitle : session.title,
    subtitle: session.title,
    type: session.player.state === 'paused' ? 'pause' : session.transcodeSession ? 'transcode' : 'stream',
    progress: playbackProgress(session),
    raw_data: session,
  }
}

/** The activity in PMS's own field names, as Komandorr passed it through. */
function rawActivity(activity: Activity): Record<string, unknown> {
  const { librarySectionID, ...rest } = activity
  return librarySectionID === undefined ? rest : { ...rest, Context: { librarySectionID } }
}
