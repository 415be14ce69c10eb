/**
 * An image field as the frontend wants it: an absolute Plex (or plex.tv) URL without
 * the token, which the frontend wraps in `/api/plex/proxy/image?url=` itself. A PMS path
 * (`/library/metadata/1/thumb/2`) is made absolute against the server's base URL.
 */
export function plexImageUrl(baseUrl: string, pathOrUrl: string | undefined): string | null {
  if (pathOrUrl === undefined || pathOrUrl === '') return null
  const absolute = /^https?:\/\//i.test(pathOrUrl)
    ? pathOrUrl
    : `${baseUrl}${pathOrUrl.startsWith('/') ? '' : '/'}${pathOrUrl}`
  return withoutToken(absolute)
}

/** Drops any `X-Plex-Token` query parameter (some PMS versions put one into absolute URLs). */
export function withoutToken(url: string): string {
  if (!/x-plex-token/i.test(url)) return url
  try {
    const parsed = new URL(url)
    for (const name of [...parsed.searchParams.keys()]) {
      if (name.toLowerCase() === 'x-plex-token') parsed.searchParams.delete(name)
    }
    return parsed.toString()
  } catch {
    return url.replace(/([?&])x-plex-token=[^&#]*&?/gi, '$1').replace(/[?&]$/, '')
  }
}
