import { el, single, toJson, type El } from '../container.js'
import type { ActivityInfo, ActivityType } from '../types.js'

export interface Activity {
  uuid: string
  type: ActivityType
  title: string
  subtitle: string
  /** -1 while PMS cannot tell, else 0..100. */
  progress: number
  unknownProgress: boolean
  librarySectionID: number | null
  userID: number
  cancellable: boolean
  ticksLeft: number
  totalTicks: number
  newItems: number
}

export const ACTIVITY_TITLES: Readonly<Record<ActivityType, string>> = {
  'library.update.section': 'Scanning',
  'library.refresh.items': 'Refreshing',
  'media.generate.bif': 'Generating video preview thumbnails',
  'media.generate.intros': 'Detecting intros',
  'provider.epg.load': 'Refreshing EPG',
}

export function activityInfo(a: Activity): ActivityInfo {
  return {
    uuid: a.uuid,
    type: a.type,
    title: a.title,
    subtitle: a.subtitle,
    progress: a.progress,
    librarySectionID: a.librarySectionID,
  }
}

export function activityElement(a: Activity): El {
  const context =
    a.librarySectionID !== null ? [single('Context', { librarySectionID: String(a.librarySectionID) })] : []
  return el(
    'Activity',
    {
      uuid: a.uuid,
      type: a.type,
      cancellable: a.cancellable,
      userID: a.userID,
      title: a.title,
      subtitle: a.subtitle,
      progress: a.progress,
    },
    context,
  )
}

export function activityNotification(a: Activity, event: 'started' | 'updated' | 'ended'): Record<string, unknown> {
  return { event, uuid: a.uuid, Activity: toJson(activityElement(a)) }
}
