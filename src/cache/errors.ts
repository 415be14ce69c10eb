/** A loader call outlived its cache's `loadTimeoutMs`; its signal was aborted. */
export class LoaderTimeoutError extends Error {
  override name = 'LoaderTimeoutError'

  constructor(
    readonly cache: string,
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(`cache ${cache} (${key}): the loader did not finish within ${timeoutMs} ms`)
  }
}

/** The registry was closed while a load was in flight (shutdown); the load was aborted. */
export class CacheClosedError extends Error {
  override name = 'CacheClosedError'

  constructor(readonly cache: string) {
    super(`cache ${cache}: the registry was closed`)
  }
}
