import t from 'tap'
import Fastify, { type FastifyError } from 'fastify'
import relay, { buildServer, loadConfig, resolveConfig, relay as namedRelay } from '../../src/index.js'
import { startUpstream, chatChunk, streamFrames } from '../helpers/upstream.js'
import { chatBody, readAll, sseBlocks } from '../helpers/relay.js'

// SPEC §1: the npm package's default export is a Fastify plugin that a host application registers
// next to its own routes, without changing how the host's routes, errors and 404s behave.

t.test('the package exports', async (t) => {
  t.type(buildServer, 'function')
  t.type(loadConfig, 'function')
  t.type(resolveConfig, 'function')
  t.equal(namedRelay, relay, 'the plugin is also a named export')
  const meta = (relay as unknown as Record<symbol, { name?: string, fastify?: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta?.name, 'llm-relay', 'fastify-plugin metadata names it llm-relay')
  t.equal((relay as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')], true, 'wrapped with fastify-plugin')
})

t.test('a host app mounts the relay under /llm next to its own routes', async (t) => {
  const up = await startUpstream(t)
  up.handler = (_req, res) => streamFrames(res, [chatChunk('Hi'), chatChunk(' host', { finish: 'stop' })])

  const host = Fastify({ logger: false })
  host.get('/hello', async () => ({ hello: 'world' }))
  host.get('/boom', async () => { throw Object.assign(new Error('host failure'), { statusCode: 418 }) })
  host.post('/echo', async (request) => ({ got: request.body }))
  host.setErrorHandler((err: FastifyError, _request, reply) => { void reply.code(err.statusCode ?? 500).send({ hostError: err.message }) })
  host.setNotFoundHandler((request, reply) => { void reply.code(404).send({ hostNotFound: request.url }) })
  await host.register(relay, { prefix: '/llm', upstreams: [{ name: 'up', baseUrl: up.baseUrl }], playground: false })
  await host.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => host.close())
  const base = `http://127.0.0.1:${(host.server.address() as { port: number }).port}`

  // The relay, under its prefix, streams.
  const res = await fetch(`${base}/llm/v1/chat/completions?format=content`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('gpt-test', { stream: true }) })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  t.same(sseBlocks((await readAll(res)).text), ['id: 1\ndata: {"content":"Hi"}', 'id: 2\ndata: {"content":" host"}', 'id: 3\nevent: stop\ndata: {"finish_reason":"stop","usage":null}'])
  const models = await fetch(`${base}/llm/v1/models`)
  t.equal(models.status, 200)
  t.equal((await fetch(`${base}/v1/models`)).status, 404, 'nothing of the relay outside its prefix')

  // The host's own routes, errors and 404s are the host's.
  const hello = await fetch(`${base}/hello`)
  t.same([hello.status, await hello.json()], [200, { hello: 'world' }])
  t.equal(hello.headers.get('x-request-id'), null, 'the relay\'s hooks do not touch host routes')
  const boom = await fetch(`${base}/boom`)
  t.same([boom.status, await boom.json()], [418, { hostError: 'host failure' }], 'the host\'s error handler, not the OpenAI envelope')
  const missing = await fetch(`${base}/nope`)
  t.same([missing.status, await missing.json()], [404, { hostNotFound: '/nope' }], 'the host\'s 404 handler')
  const badJson = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' })
  t.equal(badJson.status, 400)
  t.same(Object.keys(await badJson.json() as object), ['hostError'], 'host body errors go to the host\'s handler')
  const text = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'plain' })
  t.same([text.status, await text.json()], [200, { got: 'plain' }], 'the host still parses text/plain')

  // And the relay's own errors keep the relay's envelope.
  const relay404 = await fetch(`${base}/llm/nope`)
  t.equal(relay404.status, 404)
  t.same(await relay404.json(), { error: { message: 'Unknown route: GET /llm/nope', type: 'invalid_request_error', param: null, code: 'not_found' } })
  const relay400 = await fetch(`${base}/llm/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' })
  t.equal(relay400.status, 400)
  t.equal((await relay400.json() as { error: { code: string } }).error.code, 'invalid_request')
})

t.test('the plugin accepts a resolved config', async (t) => {
  const host = Fastify({ logger: false })
  await host.register(relay, { config: resolveConfig({}), prefix: '/ai', playground: false })
  await host.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => host.close())
  const res = await fetch(`http://127.0.0.1:${(host.server.address() as { port: number }).port}/ai/v1/models`)
  t.equal(res.status, 200)
  t.same((await res.json() as { data: Array<{ id: string }> }).data.map((m) => m.id), ['demo'])
})
