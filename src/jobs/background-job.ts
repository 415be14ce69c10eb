/** Work that runs in the background while the server listens (monitor, stats, history sync, push). */
export interface BackgroundJob {
  readonly name: string
  start(): void
  /** Clears timers and settles in-flight work; must finish quickly (shutdown has 5 s in all). */
  stop(): Promise<void>
}
