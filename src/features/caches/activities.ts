import type { Activity, ActivityNotification, PlaybackSession, PlayingNotification } from '../../plex/index.js'
import { anyJson, arrayOf, emptyArray, num, object, str } from '../../json-schema.js'
import { declareCache, patchOn, refreshOn, type PlexChange } from './declaration.js'
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
  push: [
    patchOn<ActivitiesValue>(['playing', 'activity'], patchActivities),
    refreshOn('transcodeSession.start', 'transcodeSession.end'),
  ],
  routes: [
    {
      // Komandorr's frontend reads the activities through the older `/api/downloads` too.
      paths: ['/api/plex/activities', '/api/downloads'],
      what: 'Plex activities',
      summary: 'Plex background activities, then the playing sessions (cached: plex_activities)',
      body: object({
        error: { const: false },
        activities: arrayOf(
          object({ uuid: str, title: str, subtitle: str, type: str, progress: num, raw_data: anyJson }),
        ),
      }),
      notConfiguredBody: object(
        { error: { const: true }, message: str, activities: emptyArray },
        [],
        'Plex is not configured',
      ),
      notConfigured: () => ACTIVITIES_NOT_CONFIGURED,
      failureFields: { error: true, activities: [] },
    },
  ],
  // A viewer sees their own streams; library scans and the server's other activities are the admin's.
  viewers: {
    kind: 'view',
    view: (value, viewer) => ({
      error: false,
      activities: value.activities.filter((item) => sessionAccountOf(item) === viewer.plexAccountId),
    }),
  },
  async load({ plex }, _args, signal) {
    const client = plex.client()
    const [activities, sessions] = await Promise.all([client.activities(signal), client.sessions(signal)])
    return { error: false, activities: [...activities.map(activityItem), ...sessions.map(sessionActivityItem)] }
  },
})

/** The types of the items that stand for a playing session (the rest are PMS activities, listed first). */
const SESSION_ITEM_TYPES: ReadonlySet<string> = new Set(['pause', 'transcode', 'stream'])

/** The Plex account of a session's entry; undefined for a server activity. */
function sessionAccountOf(item: ActivityItem): number | undefined {
  if (!SESSION_ITEM_TYPES.has(item.type)) return undefined
  return (item.raw_data as Partial<PlaybackSession>).user?.id
}

/**
 * What a reload at that moment would give (undefined: reload instead). `playing`: a known
 * session's item takes the new state and position; an unknown or stopped session needs a
 * reload. `activity`: PMS sends the whole Activity, so it is inserted (after the other PMS
 * activities), replaced or removed by uuid.
 */
function patchActivities(value: ActivitiesValue, change: PlexChange): ActivitiesValue | undefined {
  if (change.name === 'playing') return patches.playing(value, change.items)
  if (change.name === 'activity') return patches.activity(value, change.items)
  return undefined
}

const patches = {
  playing(value: ActivitiesValue, reports: readonly PlayingNotification[]): ActivitiesValue | undefined {
    let activities = value.activities
    for (const report of reports) {
      const i = activities.findIndex((item) => item.uuid === report.sessionKey && SESSION_ITEM_TYPES.has(item.type))
      if (i < 0 || report.state === 'stopped') return undefined
      const raw = activities[i]!.raw_data as PlaybackSession
      const session: PlaybackSession = {
        ...raw,
        viewOffset: report.viewOffset ?? raw.viewOffset,
        player: { ...raw.player, state: report.state },
      }
      if (activities === value.activities) activities = [...activities]
      activities[i] = sessionActivityItem(session)
    }
    return { ...value, activities }
  },

  activity(value: ActivitiesValue, notifications: readonly ActivityNotification[]): ActivitiesValue | undefined {
    const activities = [...value.activities]
    for (const notification of notifications) {
      const i = activities.findIndex((item) => item.uuid === notification.uuid && !SESSION_ITEM_TYPES.has(item.type))
      if (notification.event === 'ended') {
        if (i >= 0) activities.splice(i, 1)
        continue
      }
      if (notification.activity === undefined) return undefined
      const item = activityItem(notification.activity)
      if (i >= 0) activities[i] = item
      else {
        const firstSession = activities.findIndex((other) => SESSION_ITEM_TYPES.has(other.type))
        activities.splice(firstSession < 0 ? activities.length : firstSession, 0, item)
      }
    }
    return { ...value, activities }
  },
}

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
