import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnCli } from '../helpers/cli.js'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { chatBody, readAll, waitFor } from '../helpers/relay.js'

// SPEC §9, graceful shutdown, on the real process: on SIGTERM (or SIGINT) /readyz answers 503 at once and new
// requests get 503 `unavailable` with Retry-After; a stream that finishes within shutdownGraceMs
// finishes normally; streams still running when the grace is over get an error frame in their
// format (never [DONE], never a stop event) and are closed; then the process exits 0.

const GRACE_MS = 1_500
const SHORT_FRAMES = 8
const SHUTDOWN_ERROR = '{"error":{"message":"The relay is shutting down","type":"api_error","param":null,"code":"unavailable"}}'

t.test('SIGTERM: readyz 503, new work refused, short stream completes, long streams get an error frame after the grace, exit 0', async (t) => {
  const up = await startUpstream(t)
  up.handler = async (_req, res, received) => {
    res.writeHead(200, SSE_HEADERS)
    // "long" streams for up to 20 s (far past the grace); "short" is done after SHORT_FRAMES × 50 ms.
    const frames = received.json.messages[0].content === 'long' ? 400 : SHORT_FRAMES
    for (let i = 0; i < frames && !res.destroyed; i++) {
      res.write(`data: ${chatChunk(`t${i} `)}\n\n`)
      await sleep(50)
    }
    res.end(`data: ${chatChunk(null, { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
  }
  const dir = t.testdir({})
  const configPath = join(dir, 'relay.json')
  writeFileSync(configPath, JSON.stringify({ upstreams: [{ name: 'up', baseUrl: up.baseUrl }], shutdownGraceMs: GRACE_MS }))
  const cli = spawnCli(t, { PORT: '0', HOST: '127.0.0.1' }, { cwd: dir, args: ['--config', configPath], timeoutMs: 30_000 })
  const listening = await cli.waitForLog(/^Server listening at /)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(listening.msg)![0]

  const post = (content: string, format = 'openai') => fetch(`${url}/v1/chat/completions?format=${format}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content }] }),
    signal: AbortSignal.timeout(20_000),
  })
  const [longOpenai, longContent] = await Promise.all([post('long'), post('long', 'content')])
  const long1 = readAll(longOpenai)
  const long2 = readAll(longContent)
  await waitFor('both long streams to reach the upstream', () => up.requests.length >= 2)
  await sleep(200) // both long streams are well under way
  const short = readAll(await post('short'))
  await waitFor('the short stream to reach the upstream', () => up.requests.length >= 3)

  const signalledAt = performance.now()
  cli.child.kill('SIGTERM')
  await cli.waitForLog(/^draining/, 5_000)

  const ready = await fetch(`${url}/readyz`)
  t.equal(ready.status, 503, '/readyz: 503 during the grace')
  t.same(await ready.json(), { status: 'draining' })
  const refused = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal(refused.status, 503, 'a new request during the grace: 503')
  t.equal(refused.headers.get('retry-after'), '5')
  t.same(await refused.json(), { error: { message: 'The relay is shutting down; retry on another instance', type: 'api_error', param: null, code: 'unavailable' } })
  t.equal(up.requests.length, 3, 'the refused request never reached the upstream')

  const s = await short
  t.ok(s.endedAt - signalledAt < GRACE_MS, 'the short stream ended within the grace')
  t.equal(s.text.split('\n\n').filter((f) => f.includes('"content":"t')).length, SHORT_FRAMES, 'every frame of the short stream')
  t.ok(s.text.endsWith('data: [DONE]\n\n'), 'and it ended normally')

  const [l1, l2] = await Promise.all([long1, long2])
  for (const l of [l1, l2]) t.ok(l.endedAt - signalledAt >= GRACE_MS - 50, `a long stream was let run for the grace (${Math.round(l.endedAt - signalledAt)} ms)`)
  t.ok(l1.text.endsWith(`data: ${SHUTDOWN_ERROR}\n\n`), 'openai format: the error frame is the last thing')
  t.notMatch(l1.text, /\[DONE\]/)
  t.match(l2.text, new RegExp(`\\nid: \\d+\\nevent: error\\ndata: ${SHUTDOWN_ERROR.replace(/[{}[\]]/g, '\\$&')}\\n\\n$`), 'content format: an error event is the last thing')
  t.notMatch(l2.text, /event: stop/)

  t.equal(await cli.exited, 0, 'exit code 0')
  await Promise.all(up.requests.map((r) => r.socketClosed))
  const lines = cli.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  t.same(lines.filter((l) => l.msg === 'request finished' && l.url === '/v1/chat/completions').map((l) => [l.status, l.outcome]).sort(),
    [[200, 'completed'], [200, 'upstream_error'], [200, 'upstream_error'], [503, 'rejected']], 'one log line per request')
})

t.test('SIGINT with nothing in flight: exits 0 at once, idle keep-alive connections do not hold it', async (t) => {
  const dir = t.testdir({})
  const configPath = join(dir, 'relay.json')
  writeFileSync(configPath, JSON.stringify({ shutdownGraceMs: 20_000 }))
  const cli = spawnCli(t, { PORT: '0', HOST: '127.0.0.1' }, { cwd: dir, args: ['--config', configPath], timeoutMs: 30_000 })
  const listening = await cli.waitForLog(/^Server listening at /)
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(listening.msg)![0]
  // A finished demo stream leaves this process's keep-alive connection to the relay open and idle.
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('demo', { stream: true }) })
  t.match(await res.text(), /data: \[DONE\]\n\n$/)
  const signalledAt = performance.now()
  cli.child.kill('SIGINT')
  t.equal(await cli.exited, 0)
  t.ok(performance.now() - signalledAt < 5_000, 'did not wait for the 20 s grace')
})
