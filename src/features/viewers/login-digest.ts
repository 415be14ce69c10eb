import { createHmac, randomBytes } from 'node:crypto'

/**
 * A keyed digest of Basic credentials: HMAC-SHA-256 under a key that lives only in this process.
 * One per request tells the admin (compared in constant time with the admin's digest) from a
 * remembered viewer login (looked up by it), and no password is kept in memory in clear.
 */
export class LoginDigest {
  private readonly key = randomBytes(32)

  of(username: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(username).update('\0').update(password).digest()
  }
}
