import t from 'tap'
import { startRelay, chatBody, readAll, sseBlocks } from '../helpers/relay.js'

// SPEC §2: with no upstream configured the relay serves the built-in `demo` model, through the real pipeline.

const JSON_HEADERS = { 'content-type': 'application/json' }

t.test('demo chat stream: frames arrive one by one over time and end with [DONE]', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody('demo', { stream: true }) })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const { text, reads } = await readAll(res)
  const blocks = sseBlocks(text)
  t.equal(blocks.at(-1), 'data: [DONE]', 'ends with [DONE]')
  t.ok(blocks.slice(0, -1).every((b) => b.startsWith('data: {')), 'every other frame is a JSON data frame')
  const chunks = blocks.slice(0, -1).map((b) => JSON.parse(b.slice('data: '.length)))
  t.ok(chunks.length > 10, `many frames (${chunks.length})`)
  t.same([...new Set(chunks.map((c) => `${c.object} ${c.model}`))], ['chat.completion.chunk demo'], 'all chat.completion.chunk of model demo')
  t.same(chunks[0].choices[0].delta, { role: 'assistant', content: '' }, 'first chunk carries the role')
  t.equal(chunks.at(-1).choices[0].finish_reason, 'stop')
  // The relay asked the demo for usage on the client's behalf; that chunk must not reach this client.
  t.notOk(chunks.some((c) => Array.isArray(c.choices) && c.choices.length === 0), 'no usage-only chunk')
  const reply = chunks.map((c) => c.choices[0].delta.content ?? '').join('')
  t.match(reply, /^Hello! I am the llm-relay demo model/)
  t.match(reply, /You said: "hi"$/)

  // Streamed, not buffered: many separate reads, spread over time.
  t.ok(reads.length >= 10, `frames arrived in separate reads (${reads.length})`)
  const spread = (reads.at(-1)?.at ?? 0) - (reads[0]?.at ?? 0)
  t.ok(spread >= 200, `reads are spaced over time (${Math.round(spread)} ms between first and last)`)
  const summary = relay.summaries().at(-1)
  t.equal(summary?.outcome, 'completed')
  t.equal(summary?.upstream, 'demo')
  t.equal(summary?.model, 'demo')
})

t.test('demo chat without stream: one chat.completion', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody('demo') })
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/json/)
  const json = await res.json() as any
  t.equal(json.object, 'chat.completion')
  t.equal(json.model, 'demo')
  t.equal(json.choices.length, 1)
  t.equal(json.choices[0].message.role, 'assistant')
  t.match(json.choices[0].message.content, /^Hello! I am the llm-relay demo model.*You said: "hi"$/)
  t.equal(json.choices[0].finish_reason, 'stop')
  t.equal(json.usage.total_tokens, json.usage.prompt_tokens + json.usage.completion_tokens)
})

t.test('demo legacy completions, streamed and not', async (t) => {
  const relay = await startRelay(t)
  const body = (stream: boolean) => JSON.stringify({ model: 'demo', prompt: 'ping', stream })
  const plain = await fetch(`${relay.url}/v1/completions`, { method: 'POST', headers: JSON_HEADERS, body: body(false) })
  t.equal(plain.status, 200)
  const json = await plain.json() as any
  t.equal(json.object, 'text_completion')
  t.match(json.choices[0].text, /You said: "ping"$/)

  const streamed = await fetch(`${relay.url}/v1/completions`, { method: 'POST', headers: JSON_HEADERS, body: body(true) })
  t.equal(streamed.status, 200)
  const blocks = sseBlocks((await readAll(streamed)).text)
  t.equal(blocks.at(-1), 'data: [DONE]')
  const chunks = blocks.slice(0, -1).map((b) => JSON.parse(b.slice('data: '.length)))
  t.ok(chunks.every((c) => c.object === 'text_completion'), 'text_completion chunks')
  t.equal(chunks.map((c) => c.choices[0].text).join(''), json.choices[0].text, 'streamed text equals the plain answer')
})

t.test('demo /v1/models lists demo, labelled as the demo', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/models`)
  t.equal(res.status, 200)
  const json = await res.json() as any
  t.equal(json.object, 'list')
  t.same(json.data.map((m: any) => [m.id, m.object, m.owned_by]), [['demo', 'model', 'llm-relay-demo']])
  t.type(json.data[0].created, 'number')
  t.ok(relay.logs.some((l) => /DEMO model "demo"/.test(l.msg)), 'the log says the demo model is served')
})

t.test('demo /v1/embeddings answers the OpenAI list shape', async (t) => {
  const relay = await startRelay(t)
  const res = await fetch(`${relay.url}/v1/embeddings`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ model: 'demo', input: ['a', 'bb'] }) })
  t.equal(res.status, 200)
  const json = await res.json() as any
  t.equal(json.object, 'list')
  t.equal(json.model, 'demo')
  t.same(json.data.map((d: any) => [d.object, d.index]), [['embedding', 0], ['embedding', 1]])
  for (const d of json.data) {
    t.ok(Array.isArray(d.embedding) && d.embedding.length > 0 && d.embedding.every((x: unknown) => typeof x === 'number'), 'a vector of numbers')
  }
  t.notSame(json.data[0].embedding, json.data[1].embedding, 'different inputs give different vectors')
  t.same(Object.keys(json.usage).sort(), ['prompt_tokens', 'total_tokens'])
})

t.test('demo stream stopped by the client: logged client_aborted, the relay stays healthy', async (t) => {
  const relay = await startRelay(t)
  const controller = new AbortController()
  const res = await fetch(`${relay.url}/v1/chat/completions?format=content`, { method: 'POST', headers: JSON_HEADERS, body: chatBody('demo', { stream: true }), signal: controller.signal })
  const reader = res.body!.getReader()
  const first = new TextDecoder().decode((await reader.read()).value)
  t.match(first, /^id: 1\ndata: \{"content":"Hello! "\}\n\n/)
  controller.abort()
  t.equal((await relay.waitForSummaries())[0]?.outcome, 'client_aborted')
  const again = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: chatBody('demo') })
  t.equal(again.status, 200)
  t.same(relay.logs.filter((l) => l.level >= 50), [], 'no error logged')
})
