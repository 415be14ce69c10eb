// Parsing of PMS push notifications. WebSocket frames are `{"NotificationContainer": {type, size,
// <Array>: [...]}}`; the SSE stream names the type in its `event:` line and may send the container
// or just its inner object. Both end up here.
import { Fields } from './coerce.js'
import { PlexResponseError } from './errors.js'
import { parseActivity } from './parse/activities.js'
import { parseTranscodeSession } from './parse/sessions.js'
import type { Activity, TranscodeSession } from './types.js'

export interface PlayingNotification {
  sessionKey: string
  ratingKey?: string
  key?: string
  /** ms */
  viewOffset?: number
  state: 'playing' | 'paused' | 'stopped' | 'buffering' | (string & {})
  clientIdentifier?: string
  /** Key of the transcode session, when transcoding. */
  transcodeSession?: string
}

export interface ActivityNotification {
  event: 'started' | 'updated' | 'ended' | (string & {})
  uuid: string
  activity?: Activity
}

export interface TimelineEntry {
  /** Section id; -1 for items outside sections. */
  sectionID?: number
  itemID?: string
  /** PMS type id (PlexTypeId). */
  type?: number
  title?: string
  /** 5: finished processing (new media); 9: deleted. */
  state: number
  updatedAt?: number
  identifier?: string
  metadataState?: string
  mediaState?: string
}

export interface StatusNotification {
  title?: string
  description?: string
  notificationName?: string
}

export interface TranscodeSessionNotification {
  event: 'start' | 'update' | 'end'
  sessions: TranscodeSession[]
}

export type Notification =
  | { type: 'playing'; items: PlayingNotification[] }
  | { type: 'activity'; items: ActivityNotification[] }
  | { type: 'timeline'; items: TimelineEntry[] }
  | { type: 'status'; items: StatusNotification[] }
  | { type: 'transcodeSession'; notification: TranscodeSessionNotification }

const ENDPOINT = 'notifications'

function parsePlaying(p: Fields): PlayingNotification {
  return {
    sessionKey: p.key('sessionKey'),
    ratingKey: p.optKey('ratingKey'),
    key: p.optStr('key'),
    viewOffset: p.optNum('viewOffset'),
    state: p.str('state'),
    clientIdentifier: p.optStr('clientIdentifier'),
    transcodeSession: p.optStr('transcodeSession'),
  }
}

function parseActivityNotification(a: Fields): ActivityNotification {
  const activity = a.optChild('Activity')
  return { event: a.str('event'), uuid: a.str('uuid'), activity: activity && parseActivity(activity) }
}

function parseTimeline(t: Fields): TimelineEntry {
  return {
    sectionID: t.optNum('sectionID'),
    itemID: t.optKey('itemID'),
    type: t.optNum('type'),
    title: t.optStr('title'),
    state: t.num('state'),
    updatedAt: t.optNum('updatedAt'),
    identifier: t.optStr('identifier'),
    metadataState: t.optStr('metadataState'),
    mediaState: t.optStr('mediaState'),
  }
}

function parseStatus(s: Fields): StatusNotification {
  return {
    title: s.optStr('title'),
    description: s.optStr('description'),
    notificationName: s.optStr('notificationName'),
  }
}

/**
 * One notification from a frame's JSON text, `undefined` for types nobody listens to (reachability,
 * preference, ...) or frames without entries. Throws PlexResponseError on a malformed frame.
 */
export function parseNotification(text: string, eventName?: string): Notification | undefined {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (typeof body !== 'object' || body === null) {
    throw new PlexResponseError(ENDPOINT, `frame is not a JSON object: ${JSON.stringify(text.slice(0, 60))}`)
  }
  const wrapped = 'NotificationContainer' in body
  const c = wrapped
    ? Fields.root(ENDPOINT, body, 'NotificationContainer')
    : new Fields(ENDPOINT, eventName ?? 'frame', body as Record<string, unknown>)
  const type = c.optStr('type') ?? eventName
  switch (type) {
    case 'playing':
      return nonEmpty('playing', c.list('PlaySessionStateNotification').map(parsePlaying))
    case 'activity':
      return nonEmpty('activity', c.list('ActivityNotification').map(parseActivityNotification))
    case 'timeline':
      return nonEmpty('timeline', c.list('TimelineEntry').map(parseTimeline))
    case 'status':
      return nonEmpty('status', c.list('StatusNotification').map(parseStatus))
    case 'transcodeSession.start':
    case 'transcodeSession.update':
    case 'transcodeSession.end': {
      const event = type.slice('transcodeSession.'.length) as TranscodeSessionNotification['event']
      return {
        type: 'transcodeSession',
        notification: { event, sessions: c.list('TranscodeSession').map(parseTranscodeSession) },
      }
    }
    default:
      return undefined
  }
}

function nonEmpty<T extends 'playing' | 'activity' | 'timeline' | 'status'>(
  type: T,
  items: unknown[],
): Notification | undefined {
  return items.length ? ({ type, items } as Notification) : undefined
}
