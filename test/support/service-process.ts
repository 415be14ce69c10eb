// The service as a child process (`node --import tsx src/main.ts`), for drills that kill it or run
// several instances: its output is kept for failure messages. Started by
// `startService({ process: 'child', env })` (api-harness.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { freePort } from '../redis/helpers.js'
import { eventually, sleep } from './eventually.js'

/** One service process: `node --import tsx src/main.ts` (what `npx tsx` runs, without npm's start-up). */
export class ServiceProcess {
  readonly output: string[] = []
  private exited = false

  private constructor(
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n').filter(Boolean))
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    child.once('exit', () => {
      this.exited = true
    })
  }

  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    const port = await freePort()
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const service = new ServiceProcess(port, child)
    await eventually(
      `the service on port ${port} answers /api/health`,
      async () => service.exited || (await service.health()) !== undefined,
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${service.output.slice(-20).join('\n')}`)
    })
    if (service.exited) throw new Error(`the service on port ${port} exited:\n${service.output.slice(-20).join('\n')}`)
    return service
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async health(): Promise<{ redis: { leader: boolean; status: string } } | undefined> {
    try {
      const response = await fetch(`${this.url}/api/health`)
      return response.ok ? ((await response.json()) as { redis: { leader: boolean; status: string } }) : undefined
    } catch {
      return undefined
    }
  }

  async backgroundStatsUpdatedAt(): Promise<string | null> {
    const report = (await (await fetch(`${this.url}/api/plex/cache/stats`)).json()) as {
      caches: Array<{ name: string; last_update?: string | null }>
    }
    return report.caches.find((c) => c.name === 'background_stats')?.last_update ?? null
  }

  async kill(): Promise<void> {
    if (this.exited) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    if (this.exited) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    await Promise.race([exited, sleep(5_000)])
    await this.kill()
  }
}
