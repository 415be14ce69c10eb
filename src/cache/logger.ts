type LogFn = (fields: object, message: string) => void

/** A pino-compatible logger. */
export interface CacheLogger {
  info: LogFn
  debug: LogFn
  warn: LogFn
  error: LogFn
  isLevelEnabled?(level: string): boolean
}

/** The logger for hit lines, or undefined when debug is off (decided once, at declaration). */
export function hitLoggerOf(logger: CacheLogger | undefined): CacheLogger | undefined {
  if (logger === undefined) return undefined
  return logger.isLevelEnabled === undefined || logger.isLevelEnabled('debug') ? logger : undefined
}
