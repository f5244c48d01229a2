import t from 'tap'
import { startUpstream, type Handler } from '../helpers/upstream.js'
import { startRelay, chatBody } from '../helpers/relay.js'

// SPEC §10: an upstream's own 4xx is passed on with its status and its
// message, normalised into the OpenAI envelope (FastAPI `{"detail": …}` too).

interface Case {
  name: string
  kind?: 'openai' | 'xinference'
  handler: Handler
  status: number
  error: { message: string, type: string, param: string | null, code: string }
  retryAfter?: string
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

const CASES: Case[] = [
  {
    name: 'OpenAI envelope keeps its type, param and code',
    handler: json(400, { error: { message: "This model's maximum context length is 8192 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }),
    status: 400,
    error: { message: "This model's maximum context length is 8192 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' },
  },
  {
    name: 'FastAPI {"detail": "…"} from Xinference',
    kind: 'xinference',
    handler: json(404, { detail: 'Model not found' }),
    status: 404,
    error: { message: 'Model not found', type: 'invalid_request_error', param: 'model', code: 'model_not_found' },
  },
  {
    name: 'FastAPI validation list',
    kind: 'xinference',
    handler: json(422, { detail: [{ loc: ['body', 'messages'], msg: 'field required', type: 'value_error.missing' }] }),
    status: 422,
    error: { message: 'body.messages: field required', type: 'invalid_request_error', param: null, code: 'invalid_request' },
  },
  {
    name: 'a text/plain 4xx',
    handler: (_req, res) => { res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }); res.end('Bad Request: temperature must be <= 2\n') },
    status: 400,
    error: { message: 'Bad Request: temperature must be <= 2', type: 'invalid_request_error', param: null, code: 'invalid_request' },
  },
  {
    name: 'a 429 with Retry-After',
    handler: json(429, { error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' } }, { 'retry-after': '7', 'x-ratelimit-remaining-requests': '0' }),
    status: 429,
    error: { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' },
    retryAfter: '7',
  },
  {
    name: 'Xinference 401 with FastAPI detail',
    kind: 'xinference',
    handler: json(401, { detail: 'Could not validate credentials' }),
    status: 401,
    error: { message: 'Could not validate credentials', type: 'authentication_error', param: null, code: 'invalid_api_key' },
  },
]

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const up = await startUpstream(t, c.handler)
    const relay = await startRelay(t, { upstreams: [{ name: 'up', kind: c.kind ?? 'openai', baseUrl: up.baseUrl }] })
    for (const stream of [false, true]) {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody('m', { stream }),
      })
      t.equal(res.status, c.status, `stream ${stream}: status`)
      t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', `stream ${stream}: JSON, not SSE`)
      t.equal(res.headers.get('retry-after'), c.retryAfter ?? null, `stream ${stream}: Retry-After`)
      t.strictSame(await res.json(), { error: c.error }, `stream ${stream}: envelope`)
    }
    t.strictSame(relay.summaries().map((l) => [l.status, l.outcome, l.upstream]), [[c.status, 'rejected', 'up'], [c.status, 'rejected', 'up']])
    const health = await fetch(`${relay.url}/healthz`)
    t.equal(health.status, 200, 'the relay still answers')
    await health.text()
  })
}
