import type { Fields } from '../coerce.js'
import type { Activity } from '../types.js'

export function parseActivity(a: Fields): Activity {
  return {
    uuid: a.str('uuid'),
    type: a.str('type'),
    title: a.optStr('title') ?? '',
    subtitle: a.optStr('subtitle'),
    cancellable: a.bool('cancellable', false),
    userID: a.optNum('userID'),
    progress: a.optNum('progress') ?? -1,
    librarySectionID: a.optChild('Context')?.optNum('librarySectionID'),
  }
}

export function parseActivities(mc: Fields): Activity[] {
  return mc.list('Activity').map(parseActivity)
}
