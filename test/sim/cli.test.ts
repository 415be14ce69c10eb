import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { parseArgs, parseFaultSpec } from '../../sim/cli-args.js'

describe('command line', () => {
  it('parses flags and fault specs, including endpoints that contain colons', () => {
    const args = parseArgs(['--port', '0', '--items', '5000', '--speed', '10', '--no-live', '--log', '--fault', '/library/sections/:id/all:latency=5000,error=0.5', '--fault', 'outage,duration=3000'])
    expect(args.options).toEqual({ port: 0, items: 5000, speed: 10, liveSessions: false, log: true })
    expect(args.faults).toEqual([
      { endpoint: '/library/sections/:id/all', latencyMs: 5000, errorRate: 0.5 },
      { endpoint: '*', mode: 'outage', durationMs: 3000 },
    ])
    expect(parseFaultSpec('/:/websockets/notifications:drop')).toEqual({ endpoint: '/:/websockets/notifications', mode: 'drop' })
    expect(parseArgs(['--start-time', 'now'], () => 1234).options.startTime).toBe(1234)
  })

  it('rejects unknown flags and bad values with a message naming them', () => {
    expect(() => parseArgs(['--bogus'])).toThrow(/--bogus/)
    expect(() => parseArgs(['--items', 'many'])).toThrow(/--items/)
    expect(() => parseFaultSpec('/status/sessions:status=418')).toThrow(/status/)
    expect(() => parseFaultSpec('/status/sessions:explode')).toThrow(/explode/)
  })

  it('prints one listening line, serves, and exits on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sim/main.ts', '--port', '0', '--items', '50', '--token', 'cli-token'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString()
          if (out.includes('\n')) resolve(out.split('\n')[0]!)
        })
        child.once('exit', (code) => reject(new Error(`exited ${code}`)))
      })
      const url = /^Plex simulator listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1]
      expect(url).toBeDefined()
      expect(line).not.toContain('cli-token')
      expect((await fetch(`${url}/identity`)).status).toBe(200)
      expect((await fetch(`${url}/accounts`, { headers: { 'X-Plex-Token': 'cli-token' } })).status).toBe(200)
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
