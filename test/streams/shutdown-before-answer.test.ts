import t from 'tap'
import { startUpstream, sleep } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'
import { createStream, gate } from '../helpers/streams.js'
import { UnavailableError } from '../../src/errors.js'

// Graceful shutdown ends running upstream calls by aborting the request's own controller
// (upstream/inflight.ts). POST /v1/streams must still answer that caller, with the 503 of SPEC §9,
// rather than take the abort for its client having left (which answers nobody, and would leave the
// POST hanging until its socket is closed).
t.test('shutdown while POST /v1/streams waits for upstream headers: 503 unavailable, not a hang', async (t) => {
  const up = await startUpstream(t)
  const held = gate()
  t.teardown(() => held.open())
  up.handler = async (_req, res) => {
    await held.opened
    res.destroy()
  }
  const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
  const posting = createStream(relay.url, { model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] })
  for (let i = 0; i < 50 && up.requests.length === 0; i++) await sleep(20)
  t.equal(up.requests.length, 1, 'the upstream call is running')

  relay.app.relay.router.abortAll(UnavailableError({ retryAfter: 5 }, 'The relay is shutting down'))
  let timer: NodeJS.Timeout | undefined
  const answer = await Promise.race([posting, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), 3000) })])
  clearTimeout(timer)
  t.ok(answer, 'the POST was answered')
  t.equal(answer?.status, 503)
  t.same(answer?.json, { error: { message: 'The relay is shutting down', type: 'api_error', param: null, code: 'unavailable' } })
  await up.requests[0]!.socketClosed
})
