export { createPlexClient } from './client.js'
export type { HistoryQuery, PlexClient, PlexClientOptions, SectionItemsQuery } from './client.js'
export type { PlexCall, PlexCallObserver } from './http.js'
export {
  PlexAbortedError,
  PlexAuthError,
  PlexError,
  PlexHttpError,
  PlexResponseError,
  PlexResponseTooLargeError,
  PlexTimeoutError,
  PlexUnreachableError,
  isPlexError,
  redactToken,
} from './errors.js'
export type { PlexErrorKind } from './errors.js'
export * from './types.js'
export { createNotificationListener, MAX_NOTIFICATION_BYTES, NotificationListener } from './notifications.js'
export type {
  NotificationEvents,
  NotificationListenerOptions,
  NotificationLogger,
  NotificationTransport,
} from './notifications.js'
export type {
  ActivityNotification,
  PlayingNotification,
  StatusNotification,
  TimelineEntry,
  TranscodeSessionNotification,
} from './notification-frames.js'
export { backoffDelay } from './backoff.js'
export type { BackoffOptions } from './backoff.js'
