import t from 'tap'
import { connect } from 'node:net'
import { startRelay } from '../helpers/relay.js'

// SPEC §8: even a request Node's HTTP parser rejects must not put its bytes
// (and so its Authorization header or cookie) into the log, at any level.
// Node hangs the raw packet on the parse error, and Fastify's default
// handler logs that error whole at trace level.

const TOKEN = 'sk-client-R4W-S3CR3T'
const COOKIE = 'COOKIE-R4W-S3CR3T'

function send (port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    const limit = setTimeout(() => socket.destroy(), 2000)
    socket.setEncoding('utf8')
    socket.on('data', (c: string) => { answer += c })
    socket.on('close', () => { clearTimeout(limit); resolve(answer) })
    socket.on('error', () => {})
    socket.write(bytes)
  })
}

t.test('a broken request with a token and a cookie, at LOG_LEVEL trace', async (t) => {
  const relay = await startRelay(t, { logLevel: 'trace', keys: [{ name: 'web', key: TOKEN }] })
  const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nCookie: s=${COOKIE}\r\nContent-Type: application/json\r\n`
  const answers = [
    await send(relay.port, `${head}Transfer-Encoding: chunked\r\n\r\nnot-a-chunk-size\r\n`),
    await send(relay.port, `${head}Content-Length: abc\r\n\r\n{}`),
    await send(relay.port, `${head}X-Big: ${'b'.repeat(20_000)}\r\n\r\n`),
  ]
  t.strictSame(answers.map((a) => a.split('\r\n')[0]), ['HTTP/1.1 400 Bad Request', 'HTTP/1.1 400 Bad Request', 'HTTP/1.1 431 Request Header Fields Too Large'])
  const log = relay.logText()
  t.match(log, /unreadable HTTP request/, 'the event is logged (at debug)')
  t.notMatch(log, /rawPacket/, 'without the raw bytes')
  for (const secret of [TOKEN, COOKIE]) {
    t.notOk(log.includes(secret), `${secret} is not in the log as text`)
    // Also not as a serialised Buffer's byte list.
    const bytes = [...Buffer.from(secret)].join(',')
    t.notOk(log.replace(/\s/g, '').includes(bytes), `${secret} is not in the log as bytes`)
    t.notOk(answers.some((a) => a.includes(secret)), `${secret} is in no answer`)
  }
})
