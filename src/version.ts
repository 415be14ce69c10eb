import { existsSync, readFileSync } from 'node:fs'

// src/version.ts runs from src/ under tsx and from dist/src/ once built: look upward for the manifest.
function readVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    const url = new URL(candidate, import.meta.url)
    if (existsSync(url)) return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
  }
  return '0.0.0'
}

export const VERSION: string = readVersion()
