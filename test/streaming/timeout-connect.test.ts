import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { startRelay, chatBody } from '../helpers/relay.js'

// undici runs its header, body and connect timers on a ~1 s clock, so a 300 ms timeout fires within about 1 s.
// SPEC §5 timeouts: connect (config timeouts.connectMs) → 504 upstream_timeout.
// A real listener that never completes a handshake: Python binds 127.0.0.1:0 with listen(0) and
// never accepts; its idle fillers occupy the accept queue, so the kernel drops further SYNs and
// the relay's connect() hangs until its own timeout.
const BLACKHOLE = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0))
s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(3):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    fillers.append(c)
print(port, flush=True)
sys.stdin.read()
`

t.test('connect timeout: 504 upstream_timeout, before anything was streamed', async (t) => {
  const child = spawn('python3', ['-c', BLACKHOLE], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill() })
  const [line] = await once(child.stdout, 'data', { signal: AbortSignal.timeout(5000) }) as [Buffer]
  const port = Number(line.toString().trim())
  t.ok(port > 0, `the black-hole listener is on port ${port}`)

  const relay = await startRelay(t, { timeouts: { connectMs: 300 }, upstreams: [{ name: 'up', baseUrl: `http://127.0.0.1:${port}/v1` }] })
  const started = performance.now()
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }),
    signal: AbortSignal.timeout(10_000),
  })
  const took = performance.now() - started
  t.equal(res.status, 504)
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
  t.same(await res.json(), { error: { message: 'Timed out connecting to upstream "up"', type: 'timeout_error', param: null, code: 'upstream_timeout' } })
  // Not the kernel's own SYN retry giving up (that takes minutes): the relay's 300 ms.
  t.ok(took >= 250 && took < 5000, `answered after the connect timeout (${Math.round(took)} ms)`)
  t.equal(relay.summaries()[0]?.outcome, 'timeout')
})
