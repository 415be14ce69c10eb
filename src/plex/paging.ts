// Walks a PMS list page by page with the X-Plex-Container-Start/-Size request headers, and stops
// on its own when a server ignores them: a short or empty page ends the list, so does a page
// larger than asked (Size ignored) or one that starts over at the first row (Start ignored).

export interface FetchedPage<T> {
  rows: T[]
  /** `offset` as the server stated it, if it did. */
  offset?: number
  totalSize?: number
}

export interface Page<T> {
  rows: T[]
  offset: number
  totalSize?: number
}

export function pagingHeaders(start: number, size: number): Record<string, string> {
  return { 'X-Plex-Container-Start': String(start), 'X-Plex-Container-Size': String(size) }
}

export async function* pagesOf<T>(
  fetchPage: (start: number, size: number) => Promise<FetchedPage<T>>,
  pageSize: number,
  rowId: (row: T) => string | undefined,
): AsyncGenerator<Page<T>> {
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new RangeError(`pageSize ${pageSize} is not a positive integer`)
  let start = 0
  let firstRowId: string | undefined
  for (;;) {
    const page = await fetchPage(start, pageSize)
    const { rows, totalSize } = page
    if (start > 0) {
      const startedOver =
        (page.offset !== undefined && page.offset !== start) ||
        (firstRowId !== undefined && rows[0] !== undefined && rowId(rows[0]) === firstRowId)
      if (startedOver) return
    } else if (rows[0] !== undefined) {
      firstRowId = rowId(rows[0])
    }
    if (rows.length > 0) yield { rows, offset: start, totalSize }
    start += rows.length
    if (rows.length !== pageSize) return
    if (totalSize !== undefined && start >= totalSize) return
  }
}
