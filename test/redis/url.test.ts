import t from 'tap'
import { parseRedisUrl, redact } from '../../src/redis/url.js'

// SPEC §9.1: redis:// and rediss://, user and password allowed; the URL is taken apart for
// ioredis, and a bad one is refused without repeating it.

t.test('the parts of a redis:// and a rediss:// URL', async (t) => {
  t.strictSame(parseRedisUrl('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380, username: undefined, password: undefined, db: 0, tls: false, display: 'redis://127.0.0.1:6380/0' })
  t.strictSame(parseRedisUrl('rediss://relay:p%40ss%3Aw0rd@cache.example/3'), { host: 'cache.example', port: 6379, username: 'relay', password: 'p@ss:w0rd', db: 3, tls: true, display: 'rediss://cache.example/3' })
  t.strictSame(parseRedisUrl('redis://:only-pw@[::1]:7000/'), { host: '::1', port: 7000, username: undefined, password: 'only-pw', db: 0, tls: false, display: 'redis://[::1]:7000/0' })
})

t.test('a bad URL is refused without showing it', async (t) => {
  for (const url of ['http://u:SECRET@h', 'redis://:SECRET@', 'not a url SECRET', 'redis://:SECRET@h/db1']) {
    let message = ''
    try { parseRedisUrl(url) } catch (err) { message = (err as Error).message }
    t.match(message, /^The Redis URL/, url)
    t.notMatch(message, 'SECRET', `${url}: no secret`)
  }
})

t.test('redact replaces a secret as given and URL-encoded', async (t) => {
  t.equal(redact('AUTH p@ss failed for redis://:p%40ss@h', ['p@ss']), 'AUTH *** failed for redis://:***@h')
  t.equal(redact('nothing here', ['', 'x-y']), 'nothing here')
})
