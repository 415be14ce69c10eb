/** A monitored web service: not Plex, just a URL the monitor checks. */

export const SERVICE_TYPES = ['app', 'website', 'panel', 'project', 'server'] as const
export type ServiceType = (typeof SERVICE_TYPES)[number]

export const SERVICE_STATUSES = ['online', 'offline', 'problem'] as const
export type ServiceStatus = (typeof SERVICE_STATUSES)[number]

export interface Service {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly type: ServiceType
  readonly status: ServiceStatus
  /** Unix ms of the last finished check; null before the first. */
  readonly lastCheckAt: number | null
  /** Milliseconds the last answer took; null when there was no answer. */
  readonly responseTimeMs: number | null
  readonly description: string | null
  readonly icon: string | null
  readonly group: string | null
  readonly createdAt: number
}

/** The fields a client sets; everything else is the monitor's. */
export interface ServiceFields {
  readonly name: string
  readonly url: string
  readonly type: ServiceType
  readonly description: string | null
  readonly icon: string | null
  readonly group: string | null
}

export interface CheckResult {
  readonly status: ServiceStatus
  readonly checkedAt: number
  readonly responseTimeMs: number | null
}

export interface StatusCounts {
  readonly total: number
  readonly online: number
  readonly offline: number
  readonly problem: number
}
