export { BlobCache } from './blob-cache.js'
export type { BlobCacheContext, BlobCacheDeclaration, BlobDiskStats, BlobRead, BlobTier } from './blob-cache.js'
export type { BlobEntry, BlobValue } from './blob-entry.js'
export { DiskTier } from './disk-tier.js'
