import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, sleep } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'
import { startForwardProxy } from '../helpers/forward-proxy.js'
import { loadConfig } from '../../src/config/load.js'
import { buildServer } from '../../src/server.js'

// SPEC §3: upstream calls honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY (undici's EnvHttpProxyAgent).
// A real forward proxy on 127.0.0.1 proves the path: it records what it forwarded.

const FRAMES = [`data: ${chatChunk('through')}\n\n`, `data: ${chatChunk(' the proxy', { finish: 'stop' })}\n\n`, 'data: [DONE]\n\n']

async function streamingUpstream (t: Parameters<typeof startUpstream>[0]) {
  const up = await startUpstream(t)
  up.handler = async (_req, res) => {
    res.writeHead(200, SSE_HEADERS)
    for (const f of FRAMES) { res.write(f); await sleep(30) }
    res.end()
  }
  return up
}

async function stream (url: string): Promise<{ status: number, text: string, reads: number }> {
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }), signal: AbortSignal.timeout(10_000) })
  const { text, reads } = await readAll(res)
  return { status: res.status, text, reads: reads.length }
}

t.test('a streamed request goes through the proxy, frame by frame, with the upstream key', async (t) => {
  const up = await streamingUpstream(t)
  const proxy = await startForwardProxy(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl, apiKey: 'sk-upstream' }], proxy: { httpProxy: proxy.url } })
  const r = await stream(relay.url)
  t.equal(r.status, 200)
  t.equal(r.text, FRAMES.join(''), 'the upstream bytes, unchanged')
  t.ok(r.reads >= 2, `frames were not held back by the proxy path (${r.reads} reads)`)
  t.equal(proxy.requests.length, 1)
  t.match(proxy.requests[0], { method: 'POST', target: `${up.baseUrl}/chat/completions`, headers: { host: `127.0.0.1:${up.port}`, authorization: 'Bearer sk-upstream' } })
  t.same(proxy.connects, [], 'plain http is not tunnelled')
  t.equal(up.requests.length, 1, 'the upstream got it (from the proxy)')
})

t.test('NO_PROXY=127.0.0.1: the upstream is reached directly', async (t) => {
  const up = await streamingUpstream(t)
  const proxy = await startForwardProxy(t)
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], proxy: { httpProxy: proxy.url, noProxy: '127.0.0.1' } })
  const r = await stream(relay.url)
  t.equal(r.status, 200)
  t.equal(r.text, FRAMES.join(''))
  t.equal(proxy.requests.length, 0, 'the proxy saw nothing')
  t.equal(up.requests.length, 1)
})

t.test('the environment variables, read by loadConfig (as the CLI does)', async (t) => {
  const up = await streamingUpstream(t)
  const proxy = await startForwardProxy(t)
  const cwd = t.testdir({})
  for (const [env, proxied] of [
    [{ HTTP_PROXY: proxy.url }, 1],
    [{ http_proxy: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }, 0],
    [{ HTTPS_PROXY: proxy.url }, 0], // only for https:// upstreams
  ] as const) {
    const before = proxy.requests.length
    const app = await buildServer(loadConfig({ env: { UPSTREAM_URL: up.baseUrl, ...env }, argv: [], cwd }), { logger: false })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const r = await stream(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
    await app.close()
    t.equal(r.text, FRAMES.join(''), `${JSON.stringify(env)}: served`)
    t.equal(proxy.requests.length - before, proxied, `${JSON.stringify(env)}: ${proxied ? 'through' : 'not through'} the proxy`)
  }
})

t.test('the upstream layer never reads process.env itself', async (t) => {
  const up = await streamingUpstream(t)
  const proxy = await startForwardProxy(t)
  const saved = { ...process.env }
  t.teardown(() => { for (const k of ['HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k] })
  // A proxy in process.env but none in the config: direct.
  process.env.HTTP_PROXY = proxy.url
  process.env.http_proxy = proxy.url
  const direct = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  t.equal((await stream(direct.url)).text, FRAMES.join(''))
  t.equal(proxy.requests.length, 0, 'process.env.HTTP_PROXY alone changes nothing')
  // NO_PROXY in process.env but not in the config: still proxied.
  process.env.NO_PROXY = '127.0.0.1'
  process.env.no_proxy = '127.0.0.1'
  const proxiedRelay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }], proxy: { httpProxy: proxy.url } })
  t.equal((await stream(proxiedRelay.url)).text, FRAMES.join(''))
  t.equal(proxy.requests.length, 1, 'process.env.NO_PROXY alone changes nothing')
})
