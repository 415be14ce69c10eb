import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Komandorr's version is that of its frontend: the `release.txt` of the built frontend it serves
 * (`v3.3.0` → `3.3.0`), `unknown` without one. Read once: the folder does not change under a
 * running service.
 */
export function frontendRelease(frontendDir: string | null): string {
  if (frontendDir === null) return 'unknown'
  try {
    const text = readFileSync(join(frontendDir, 'release.txt'), 'utf8').trim()
    return text.replace(/^v/, '') || 'unknown'
  } catch {
    return 'unknown'
  }
}
