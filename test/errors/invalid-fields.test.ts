import t from 'tap'
import { startRelay } from '../helpers/relay.js'
import { FORMAT_NAMES } from '../../src/formats/index.js'

// SPEC §10, 400 invalid_request: a missing or mistyped `model`, `messages`
// (chat), `prompt` (completions), `input` (embeddings) or `stream`, and an
// unknown `?format=`. Each answer names the offending field in `param`.

const MESSAGES = [{ role: 'user', content: 'hi' }]

interface Case { path: string, body: unknown, query?: string, message: string, param: string }

const CASES: Case[] = [
  { path: '/v1/chat/completions', body: { messages: MESSAGES }, message: 'You must provide a model parameter', param: 'model' },
  { path: '/v1/chat/completions', body: { model: 42, messages: MESSAGES }, message: '"model" must be a non-empty string', param: 'model' },
  { path: '/v1/chat/completions', body: { model: '', messages: MESSAGES }, message: '"model" must be a non-empty string', param: 'model' },
  { path: '/v1/chat/completions', body: { model: ['demo'], messages: MESSAGES }, message: '"model" must be a non-empty string', param: 'model' },
  { path: '/v1/chat/completions', body: { model: 'demo' }, message: 'You must provide a messages parameter', param: 'messages' },
  { path: '/v1/chat/completions', body: { model: 'demo', messages: 'hi' }, message: '"messages" must be a non-empty array', param: 'messages' },
  { path: '/v1/chat/completions', body: { model: 'demo', messages: [] }, message: '"messages" must be a non-empty array', param: 'messages' },
  { path: '/v1/chat/completions', body: { model: 'demo', messages: ['hi'] }, message: '"messages[0]" must be an object with a string "role"', param: 'messages[0]' },
  { path: '/v1/completions', body: { model: 'demo' }, message: 'You must provide a prompt parameter', param: 'prompt' },
  { path: '/v1/completions', body: { model: 'demo', prompt: 7 }, message: '"prompt" must be a string or an array', param: 'prompt' },
  { path: '/v1/embeddings', body: { model: 'demo' }, message: 'You must provide an input parameter', param: 'input' },
  { path: '/v1/embeddings', body: { model: 'demo', input: { text: 'x' } }, message: '"input" must be a string or an array', param: 'input' },
  { path: '/v1/chat/completions', body: { model: 'demo', messages: MESSAGES, stream: 'true' }, message: '"stream" must be a boolean', param: 'stream' },
  { path: '/v1/completions', body: { model: 'demo', prompt: 'hi', stream: 1 }, message: '"stream" must be a boolean', param: 'stream' },
  { path: '/v1/chat/completions', body: { model: 'demo', messages: MESSAGES, stream: true }, query: '?format=xml', message: `Unknown format "xml": use ${FORMAT_NAMES.join(', ')}`, param: 'format' },
]

t.test('the format list names the three formats of SPEC §5', async (t) => {
  t.ok(['openai', 'content', 'text'].every((f) => (FORMAT_NAMES as string[]).includes(f)))
})

t.test('each invalid field is a 400 invalid_request naming the field', async (t) => {
  const relay = await startRelay(t)
  for (const c of CASES) {
    const res = await fetch(relay.url + c.path + (c.query ?? ''), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(c.body),
    })
    const label = `${c.path}${c.query ?? ''} ${JSON.stringify(c.body)}`
    t.equal(res.status, 400, `${label}: status`)
    t.strictSame(await res.json(), {
      error: { message: c.message, type: 'invalid_request_error', param: c.param, code: 'invalid_request' },
    }, `${label}: envelope`)
  }
  t.equal(relay.summaries().length, CASES.length, 'one log line per request')
  t.ok(relay.summaries().every((l) => l.status === 400 && l.outcome === 'rejected'), 'every line says rejected')
})

t.test('an unknown X-Relay-Format header is rejected like ?format=', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-relay-format': 'yaml' },
    body: JSON.stringify({ model: 'demo', messages: MESSAGES, stream: true }),
  })
  t.equal(res.status, 400)
  t.strictSame(await res.json(), {
    error: { message: `Unknown format "yaml": use ${FORMAT_NAMES.join(', ')}`, type: 'invalid_request_error', param: 'format', code: 'invalid_request' },
  })
})

t.test('the same valid bodies are served (the checks are not over-eager)', async (t) => {
  const relay = await startRelay(t)
  const ok = [
    ['/v1/chat/completions', { model: 'demo', messages: MESSAGES, stream: false }],
    ['/v1/completions', { model: 'demo', prompt: ['a', 'b'] }],
    ['/v1/embeddings', { model: 'demo', input: 'hello' }],
  ] as const
  for (const [path, body] of ok) {
    const res = await fetch(relay.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    t.equal(res.status, 200, path)
    await res.arrayBuffer()
  }
})
