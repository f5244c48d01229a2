import t from 'tap'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { redisSkip, startRedis } from '../helpers/redis.js'
import { startRelay } from '../helpers/relay.js'
import { startUpstream, type ReceivedRequest } from '../helpers/upstream.js'
import { completedResponse, postResponses, responsesBody } from '../helpers/responses-relay.js'
import { KEYS, WEB_TOKEN, startSharedReplicas } from '../helpers/shared-replicas.js'

// SPEC §5.1 and §9.1: which upstream created a stored Responses id is shared through Redis, so
// GET and DELETE /v1/responses/:id reach that upstream from any replica, whichever replica the
// create went through. A relay that is not one of them (no Redis) does not know the id.

const skip = redisSkip()

/** An upstream whose creates answer `id`; GET and DELETE answer for it as OpenAI does. */
function storingUpstream (id: string) {
  return (req: IncomingMessage, res: ServerResponse, _received: ReceivedRequest) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    if (req.method === 'DELETE') res.end(JSON.stringify({ id, object: 'response', deleted: true }))
    else res.end(JSON.stringify({ ...completedResponse(), id }))
  }
}

t.test('a response created through replica A is found through replica B, at the upstream that created it', { skip }, async (t) => {
  const redis = await startRedis(t)
  const east = await startUpstream(t, storingUpstream('resp_from_east'))
  const west = await startUpstream(t, storingUpstream('resp_from_west'))
  const config = { keys: KEYS, upstreams: [{ name: 'east', baseUrl: east.baseUrl }, { name: 'west', baseUrl: west.baseUrl }] }
  const [a, b] = await startSharedReplicas(t, redis, config)
  if (!a || !b) throw new Error('two replicas')
  // A's round robin: the first create goes to east, the second to west.
  for (let i = 0; i < 2; i++) t.equal((await postResponses(a, responsesBody('gpt-test', { stream: false }), { token: WEB_TOKEN })).status, 200)
  t.same([east.requests.length, west.requests.length], [1, 1])

  const call = (relay: { url: string }, method: string, id: string) => fetch(`${relay.url}/v1/responses/${id}`, { method, headers: { authorization: `Bearer ${WEB_TOKEN}` } })
  for (const [id, owner, other] of [['resp_from_west', west, east], ['resp_from_east', east, west]] as const) {
    const got = await call(b, 'GET', id)
    t.equal(got.status, 200, `GET ${id} on B`)
    t.match(await got.json(), { id, object: 'response' })
    t.equal(owner.requests.at(-1)?.url, `/v1/responses/${id}`, 'at the upstream that created it')
    t.notOk(other.requests.some((r) => r.url.includes(id)), 'never at the other')
  }
  const deleted = await call(b, 'DELETE', 'resp_from_east')
  t.strictSame(await deleted.json(), { id: 'resp_from_east', object: 'response', deleted: true }, 'DELETE on B reaches east')
  t.equal((await call(b, 'GET', 'resp_never_seen')).status, 404, 'an id no replica saw: 404')

  const outsider = await startRelay(t, config)
  t.equal((await call(outsider, 'GET', 'resp_from_west')).status, 404, 'a relay without the shared Redis does not know it')
})
