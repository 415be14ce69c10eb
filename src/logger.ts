import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Level,
  type Logger,
  type LevelWithSilentOrString,
} from 'pino'

export type { Logger } from 'pino'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

const CENSOR = '***'

/** Values that must never reach a log line (the Plex token, passwords), however they got there. */
export class LogSecrets {
  private readonly values = new Set<string>()

  /** Registers a secret; short values are ignored, since replacing them would mangle ordinary text. */
  add(value: string | null | undefined): void {
    if (value && value.length >= 6) this.values.add(value)
  }

  delete(value: string | null | undefined): void {
    if (value) this.values.delete(value)
  }

  scrub(text: string): string {
    let out = text
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join(CENSOR)
    return out
  }
}

const TOKEN_IN_QUERY = /(x-plex-token=)[^&#"\s\\]*/gi
const TOKEN_AS_JSON_KEY = /("x-plex-token"\s*:\s*")(?:[^"\\]|\\.)*/gi

/** Hides `X-Plex-Token=…` in URLs and `"X-Plex-Token": "…"` in serialized headers. */
export function scrubTokens(text: string): string {
  if (!/x-plex-token/i.test(text)) return text
  return text.replace(TOKEN_IN_QUERY, `$1${CENSOR}`).replace(TOKEN_AS_JSON_KEY, `$1${CENSOR}`)
}

// Structured fields redacted by pino before serialization; the streamWrite hook below is the net
// under them for tokens hidden inside strings (URLs, error messages).
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-plex-token"]',
  'headers.authorization',
  'headers["x-plex-token"]',
  'token',
  '*.token',
  '*.*.token',
  'password',
  '*.password',
  '*.*.password',
]

export interface LoggerOptions {
  level: LogLevel
  /** Where lines go; stdout when absent. Tests pass a stream to read what was logged. */
  destination?: DestinationStream
  secrets?: LogSecrets
}

export function createLogger({ level, destination, secrets }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      hooks: {
        streamWrite: (line) => {
          const scrubbed = scrubTokens(line)
          return secrets ? secrets.scrub(scrubbed) : scrubbed
        },
      },
    },
    destination,
  )
}

type LogMethod = (...args: unknown[]) => void

/**
 * A child logger made on its first line, not before: a pino child serializes its bindings
 * through the redaction on creation, which is most of a per-request logger's cost, and a cache
 * hit writes no line. Levels that are off write nothing and create nothing.
 */
export class LazyChildLogger {
  private made: Logger | undefined

  constructor(
    private readonly parent: Logger,
    private readonly childBindings: Bindings,
    private readonly options?: ChildLoggerOptions,
  ) {}

  private get logger(): Logger {
    return (this.made ??= this.parent.child(this.childBindings, this.options))
  }

  get level(): LevelWithSilentOrString {
    return (this.made ?? this.parent).level
  }

  set level(level: LevelWithSilentOrString) {
    this.logger.level = level
  }

  isLevelEnabled(level: LevelWithSilentOrString): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level)
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args)
  }
  error(...args: unknown[]): void {
    this.write('error', args)
  }
  warn(...args: unknown[]): void {
    this.write('warn', args)
  }
  info(...args: unknown[]): void {
    this.write('info', args)
  }
  debug(...args: unknown[]): void {
    this.write('debug', args)
  }
  trace(...args: unknown[]): void {
    this.write('trace', args)
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options)
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return
    const logger = this.logger
    ;(logger[level] as LogMethod).apply(logger, args)
  }
}
