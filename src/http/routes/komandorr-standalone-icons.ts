import { randomUUID } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import multipart from '@fastify/multipart'
import type { FastifyInstance } from 'fastify'
import { publicRoute } from '../auth.js'
import { HttpError, badRequest, notFound } from '../http-error.js'
import { routeDoc } from '../openapi/schemas.js'
import type { StandaloneDeps } from './komandorr-standalone-deps.js'

/** The image types Komandorr accepts for a service icon, with the extension each is saved under. */
const ICON_TYPES: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/svg+xml': 'svg',
  'image/webp': 'webp',
}
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  svg: 'image/svg+xml',
  webp: 'image/webp',
}
export const MAX_ICON_BYTES = 1024 * 1024
/** Uploaded icons are served here, beside (not over) the frontend's own `/icons/*` files. */
export const UPLOADED_ICONS_PATH = '/icons/uploaded/'
const ICON_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(png|jpg|svg|webp)$/

/** Beside the SQLite file (`data/icons`); a temporary folder for an in-memory database. */
export function iconsDirectory(databasePath: string): string {
  if (databasePath === ':memory:') return join(tmpdir(), 'komandorr-cache-icons')
  return join(dirname(resolve(databasePath)), 'icons')
}

/** `POST /api/upload-icon` (multipart field `file`) and the uploaded icons, as Komandorr has them. */
export function standaloneIconRoutes(app: FastifyInstance, deps: StandaloneDeps): void {
  const dir = iconsDirectory(deps.config.database.path)

  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { files: 1, fileSize: MAX_ICON_BYTES, fields: 5, parts: 6 } })
    const schema = routeDoc(
      'komandorr',
      'Uploads a service icon (multipart `file`: PNG, JPEG, SVG or WebP, up to 1 MiB)',
      { 200: { description: '{path, filename}' } },
      { consumes: ['multipart/form-data'] },
    )
    scope.post('/api/upload-icon', { schema }, async (request) => {
      if (!request.isMultipart()) throw badRequest('Send the icon as multipart/form-data in the field "file"')
      const file = await request.file()
      if (file === undefined || file.fieldname !== 'file')
        throw badRequest('Send the icon in the multipart field "file"')
      const extension = ICON_TYPES[file.mimetype]
      if (extension === undefined) {
        file.file.resume()
        throw badRequest(`Invalid file type ${file.mimetype}: allowed are ${Object.keys(ICON_TYPES).join(', ')}`)
      }
      const bytes = await file.toBuffer().catch((error: unknown) => {
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          throw new HttpError(413, `The icon is larger than ${MAX_ICON_BYTES} bytes`)
        }
        throw error
      })
      const filename = `${randomUUID()}.${extension}`
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, filename), bytes)
      return { path: `${UPLOADED_ICONS_PATH}${filename}`, filename }
    })
  })

  app.get<{ Params: { name: string } }>(
    `${UPLOADED_ICONS_PATH}:name`,
    {
      config: publicRoute,
      schema: routeDoc(
        'komandorr',
        'An uploaded service icon',
        { 200: { description: 'the image', content: { 'image/*': { schema: {} } } } },
        { params: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } } },
      ),
    },
    async (request, reply) => {
      const match = ICON_NAME.exec(request.params.name)
      if (!match) throw notFound(`No uploaded icon ${request.params.name}`)
      const bytes = await readFile(join(dir, request.params.name)).catch(() => undefined)
      if (bytes === undefined) throw notFound(`No uploaded icon ${request.params.name}`)
      return (
        reply
          .type(CONTENT_TYPES[match[1]!]!)
          .header('cache-control', 'public, max-age=31536000, immutable')
          .header('x-content-type-options', 'nosniff')
          // An SVG is a document that could run script if opened on its own: not here.
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(bytes)
      )
    },
  )
}
