import t from 'tap'
import { startUpstream, chatChunk, usageChunk, streamFrames } from '../helpers/upstream.js'
import { startRelay, readAll } from '../helpers/relay.js'
import { samplesOf, scrapeUntil, valueOf } from '../helpers/prometheus.js'

// SPEC §8: token counts, as the upstream reported them, reach the log line and the metrics,
// for every format and for non-streamed answers; the usage frame reaches only clients that asked.

const content = [chatChunk('Hi'), chatChunk(null, { finish: 'stop' })]
const usage = usageChunk(11, 7)
const sse = (frames: string[]) => frames.map((f) => `data: ${f}\n\n`).join('') + 'data: [DONE]\n\n'

t.test('usage is counted once per request in the log and in the token counters, whatever the format', async (t) => {
  const up = await startUpstream(t, async (_req, res, received) => {
    const body = received.json
    if (received.url.endsWith('/embeddings')) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ object: 'list', model: body.model, data: [], usage: { prompt_tokens: 4, total_tokens: 4 } }))
    } else if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'c', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } }))
    } else {
      // Like OpenAI: the usage chunk only when it was asked for.
      await streamFrames(res, body.stream_options?.include_usage === true ? [...content, usage] : content)
    }
  })
  const relay = await startRelay(t, {
    upstreams: [{ name: 'up', baseUrl: up.baseUrl }],
    keys: [{ name: 'k', key: 'sk-k' }],
  })
  const post = (path: string, body: Record<string, unknown>, format?: string) => fetch(`${relay.url}/v1/${path}${format ? `?format=${format}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-k' },
    body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...body }),
  })

  t.equal((await readAll(await post('chat/completions', { stream: true }))).text, sse(content), 'did not ask: no usage frame')
  t.equal((await readAll(await post('chat/completions', { stream: true, stream_options: { include_usage: true } }))).text, sse([...content, usage]), 'asked: the usage frame, byte for byte')
  t.equal((await readAll(await post('chat/completions', { stream: true }, 'content'))).text,
    'id: 1\ndata: {"content":"Hi"}\n\nid: 2\nevent: stop\ndata: {"finish_reason":"stop","usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n')
  t.equal((await readAll(await post('chat/completions', { stream: true }, 'text'))).text, 'Hi', 'text shows no usage, yet it is counted')
  t.same(((await (await post('chat/completions', {})).json()) as { usage: unknown }).usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 }, 'non-streamed: the answer is untouched')
  await (await post('embeddings', { model: 'embed-test', input: 'hello', messages: undefined })).text()

  // Every upstream call asked for usage where it could: the four streams, all of them.
  t.same(up.requests.filter((r) => r.json.stream === true).map((r) => r.json.stream_options?.include_usage), [true, true, true, true])

  const samples = await scrapeUntil(relay.url, (s) => samplesOf(s, 'llm_relay_requests_total').reduce((n, x) => n + x.value, 0) === 6)
  t.equal(valueOf(samples, 'llm_relay_prompt_tokens_total', { key: 'k', model: 'gpt-test' }), 4 * 11 + 5)
  t.equal(valueOf(samples, 'llm_relay_completion_tokens_total', { key: 'k', model: 'gpt-test' }), 4 * 7 + 3)
  t.equal(valueOf(samples, 'llm_relay_prompt_tokens_total', { key: 'k', model: 'embed-test' }), 4)
  t.equal(valueOf(samples, 'llm_relay_completion_tokens_total', { key: 'k', model: 'embed-test' }), undefined, 'embeddings report no completion tokens: none counted')

  const lines = relay.summaries().filter((l) => l.url.startsWith('/v1/'))
  t.same(lines.map((l) => [l.format ?? null, l.promptTokens, l.completionTokens]), [
    ['openai', 11, 7],
    ['openai', 11, 7],
    ['content', 11, 7],
    ['text', 11, 7],
    [null, 5, 3],
    [null, 4, null],
  ])
})
