import { accessSync, constants, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { EVICTION_POLICIES, type EvictionPolicy } from './cache/eviction/index.js'

/** A bad setting: its message is one line naming the variable, the value and what is allowed. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type Env = Readonly<Record<string, string | undefined>>

/** What a variable accepts: a zod schema over the raw text, and the words for the error. */
interface Rule<T> {
  readonly schema: z.ZodType<T, string>
  readonly allowed: string
}

export const rule = <T>(schema: z.ZodType<T, string>, allowed: string): Rule<T> => ({ schema, allowed })

export const digits = z.string().regex(/^\d+$/).transform(Number)
const number = z
  .string()
  .regex(/^[+-]?(\d+\.?\d*|\.\d+)$/)
  .transform(Number)

export const positiveSeconds = rule(
  digits.pipe(z.number().int().min(1).max(31_536_000)),
  'a number of seconds (a positive integer)',
)
export const nonNegativeSeconds = rule(
  digits.pipe(z.number().int().min(0).max(31_536_000)),
  'a number of seconds (an integer >= 0)',
)
export const positiveInteger = (max: number) =>
  rule(digits.pipe(z.number().int().min(1).max(max)), `a positive integer up to ${max}`)
export const port = rule(digits.pipe(z.number().int().min(0).max(65_535)), 'a TCP port (an integer from 0 to 65535)')
export const fraction = rule(number.pipe(z.number().gt(0).max(1)), 'a number greater than 0 and at most 1 (like 0.8)')
export const bool = rule(
  z
    .string()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']))
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  'true or false',
)
export const text = rule(z.string(), 'any text')
export const eviction = rule(
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(EVICTION_POLICIES as [EvictionPolicy, ...EvictionPolicy[]])),
  `one of ${EVICTION_POLICIES.join(', ')}`,
)
export const bytes = rule(
  digits.pipe(z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)),
  'a number of bytes (a positive integer)',
)
export const nonEmptyText = rule(z.string().trim().min(1), 'a non-empty text')
export const httpUrl = rule(
  z
    .string()
    .trim()
    .refine(isHttpUrl)
    .transform((v) => v.replace(/\/+$/, '')),
  'an http(s) URL (like http://192.168.1.10:32400)',
)
export const redisUrl = rule(
  z
    .string()
    .trim()
    .refine((v) => /^rediss?:\/\/[^\s]+$/i.test(v) && canParseUrl(v)),
  'a redis:// or rediss:// URL',
)
export const postgresUrl = rule(
  z
    .string()
    .trim()
    .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/i.test(v) && canParseUrl(v)),
  'a postgres:// or postgresql:// URL (like postgres://komandorr:secret@db:5432/komandorr?sslmode=require)',
)
export const hostPortList = rule(
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== ''),
    )
    .refine(
      (list) => list.length > 0 && list.every((p) => /^[^\s:,]+:\d{1,5}$/.test(p) && Number(p.split(':')[1]) <= 65_535),
    )
    .transform((list) => list.map((p) => ({ host: p.split(':')[0]!, port: Number(p.split(':')[1]) }))),
  'a comma-separated list of host:port (like redis-1:26379,redis-2:26379)',
)
export const logLevel = rule(
  z
    .string()
    .trim()
    .toLowerCase()
    .transform((v) => (v === 'warning' ? 'warn' : v))
    .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  'one of fatal, error, warn, info, debug, trace, silent',
)
export const corsOrigins = rule(
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter((o) => o !== ''),
    )
    .refine((list) => list.every(isOriginOrStar)),
  'a comma-separated list of origins (like http://localhost:3000) or *',
)

export const frontendDir = rule(
  z
    .string()
    .trim()
    .refine(isReadableFrontend)
    .transform((v) => resolve(v)),
  'a readable folder holding index.html (a built Komandorr frontend, like frontend/dist)',
)

function isReadableFrontend(dir: string): boolean {
  try {
    accessSync(dir, constants.R_OK | constants.X_OK)
    accessSync(join(dir, 'index.html'), constants.R_OK)
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}

function canParseUrl(value: string): boolean {
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}

function isHttpUrl(value: string): boolean {
  if (!canParseUrl(value)) return false
  const url = new URL(value)
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
}

function isOriginOrStar(value: string): boolean {
  return value === '*' || (isHttpUrl(value) && new URL(value).origin === value)
}

/** How a rejected value is echoed: secrets never, URLs without their password. */
type Shown = 'plain' | 'secret' | 'url'

function show(value: string, shown: Shown): string {
  if (shown === 'secret') return '***'
  if (shown === 'url')
    return value.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@').replace(/(x-plex-token=)[^&#]*/gi, '$1***')
  return value
}

export class EnvReader {
  readonly problems: string[] = []

  constructor(private readonly env: Env) {}

  /** The raw value, or undefined when unset or blank (compose files often leave `VAR=`). */
  raw(name: string): string | undefined {
    const value = this.env[name]
    return value === undefined || value.trim() === '' ? undefined : value
  }

  read<T>(name: string, r: Rule<T>, fallback: T, shown: Shown = 'plain'): T {
    const value = this.raw(name)
    if (value === undefined) return fallback
    const parsed = r.schema.safeParse(value)
    if (parsed.success) return parsed.data
    this.problems.push(`${name}="${show(value, shown)}" is not ${r.allowed}`)
    return fallback
  }
}
