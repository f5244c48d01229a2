/** Where to connect, taken apart from a `redis://` or `rediss://` URL. */
export interface RedisTarget {
  host: string
  port: number
  username: string | undefined
  password: string | undefined
  db: number
  tls: boolean
  /** The URL without user and password, for log lines: `redis://host:port/db`. */
  display: string
}

const DEFAULT_PORT = 6379

/**
 * Takes a Redis URL apart (SPEC §9.1: `redis://` or `rediss://`, user and password allowed). The
 * parts are handed to ioredis one by one, so the URL string itself is never kept; an error here
 * never repeats the value (`new URL`'s own error carries it as `input`).
 */
export function parseRedisUrl (value: string): RedisTarget {
  let url: URL | undefined
  try { url = new URL(value) } catch { url = undefined }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new Error('The Redis URL must be redis:// or rediss:// with a host (the value is not shown: it may hold a password)')
  }
  const path = url.pathname.replace(/^\//, '')
  if (path !== '' && !/^\d{1,2}$/.test(path)) throw new Error('The Redis URL\'s path must be a database number, e.g. /0')
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port)
  const db = path === '' ? 0 : Number(path)
  // IPv6 hosts come bracketed from URL; net.connect wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return {
    host,
    port,
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db,
    tls: url.protocol === 'rediss:',
    display: `${url.protocol}//${url.host}/${db}`,
  }
}

/**
 * `text` with every secret (as given and as it appears URL-encoded) replaced by `***`: for the
 * messages of errors that might quote a connection's configuration.
 */
export function redact (text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) {
    if (secret === '') continue
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***')
  }
  return out
}
