import t from 'tap'
import { startUpstream, streamFrames } from '../helpers/upstream.js'
import { startRelay } from '../helpers/relay.js'

// Legacy `/v1/completions` streams carry `choices[].text`, not `delta.content`;
// every format reads them.
const chunk = (text: string, finish: string | null = null) => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', created: 1_700_000_000, model: 'gpt-3.5-turbo-instruct', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] })
const frames = [chunk('Once'), chunk(' upon'), chunk(''), chunk(' a time', 'stop')]
const body = JSON.stringify({ model: 'gpt-3.5-turbo-instruct', prompt: 'Tell me a story', stream: true })

for (const [format, type, expected] of [
  ['openai', 'text/event-stream; charset=utf-8', frames.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n'],
  ['content', 'text/event-stream; charset=utf-8',
    'id: 1\ndata: {"content":"Once"}\n\nid: 2\ndata: {"content":" upon"}\n\nid: 3\ndata: {"content":" a time"}\n\n' +
    'id: 4\nevent: stop\ndata: {"finish_reason":"stop","usage":null}\n\n'],
  ['text', 'text/plain; charset=utf-8', 'Once upon a time'],
] as const) {
  t.test(`/v1/completions in ${format} format`, async (t) => {
    const up = await startUpstream(t)
    up.handler = (_req, res) => streamFrames(res, frames)
    const relay = await startRelay(t, { upstreams: [{ name: 'up', baseUrl: up.baseUrl }] })
    const res = await fetch(`${relay.url}/v1/completions?format=${format}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    t.equal(res.status, 200)
    t.equal(res.headers.get('content-type'), type)
    t.equal(await res.text(), expected)
    t.equal(up.requests[0]?.url, '/v1/completions')
    t.equal(up.requests[0]?.json.prompt, 'Tell me a story')
  })
}
