// Frames as real upstreams send them: OpenAI (LF, data-only, [DONE]) and Xinference through
// sse-starlette (CRLF, `: ping - <timestamp>` comments). Also: raw is a zero-copy view when a
// block lies inside one chunk, and a copy (safe from chunk reuse) when it spans chunks.
import t from 'tap'
import { createSseParser, type SseEvent } from '../../src/sse/parser.js'

type Seen = { event: SseEvent; raw: Buffer }

function parser (): { seen: Seen[]; comments: string[]; push: (c: Buffer | Uint8Array) => void; end: () => boolean } {
  const seen: Seen[] = []
  const comments: string[] = []
  const p = createSseParser({ onEvent: (event, raw) => seen.push({ event, raw }), onComment: (c) => comments.push(c) })
  return { seen, comments, push: (c) => p.push(c), end: () => p.end() }
}

const chunk = (content: string, finish: string | null): string =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })

t.test('OpenAI: one data-only frame per chunk, ending with [DONE]; raw is a view into the chunk', async (t) => {
  const p = parser()
  const frames = [chunk('Hel', null), chunk('lo', null), chunk('', 'stop'), '[DONE]'].map((d) => Buffer.from(`data: ${d}\n\n`))
  for (const f of frames) p.push(f)
  t.equal(p.end(), false)
  t.strictSame(p.seen.map((s) => s.event.data), [chunk('Hel', null), chunk('lo', null), chunk('', 'stop'), '[DONE]'])
  t.ok(p.seen.every((s) => s.event.event === '' && s.event.id === undefined && s.event.retry === undefined))
  p.seen.forEach((s, i) => {
    const frame = frames[i] as Buffer
    t.ok(s.raw.equals(frame), `frame ${i} raw bytes`)
    t.equal(s.raw.buffer, frame.buffer, `frame ${i} raw shares the chunk's memory`)
    t.equal(s.raw.byteOffset, frame.byteOffset)
  })
})

t.test('OpenAI: several frames in one chunk give consecutive views', async (t) => {
  const p = parser()
  const buf = Buffer.from(`data: ${chunk('a', null)}\n\ndata: [DONE]\n\n`)
  p.push(buf)
  t.equal(p.seen.length, 2)
  t.equal(Buffer.concat(p.seen.map((s) => s.raw)).toString(), buf.toString())
  t.equal(p.seen[1]?.raw.byteOffset, buf.byteOffset + buf.indexOf('data: [DONE]'))
})

t.test('Xinference: CRLF frames and ping comments, cut like TCP would', async (t) => {
  const body =
    `data: ${chunk('你', null)}\r\n\r\n` +
    ': ping - 2024-01-01 00:00:00.000000\r\n\r\n' +
    `data: ${chunk('好', 'stop')}\r\n\r\n` +
    'data: [DONE]\r\n\r\n'
  const bytes = Buffer.from(body)
  for (const size of [1, 2, 3, 7, 64, 1500]) {
    const p = parser()
    for (let i = 0; i < bytes.length; i += size) p.push(bytes.subarray(i, i + size))
    t.equal(p.end(), false)
    t.strictSame(p.seen.map((s) => s.event.data), [chunk('你', null), chunk('好', 'stop'), '[DONE]'], `size ${size}`)
    t.strictSame(p.comments, ['ping - 2024-01-01 00:00:00.000000'])
    // The ping block has no data: nothing fires and its bytes belong to no event.
    const expected = body.replace(': ping - 2024-01-01 00:00:00.000000\r\n\r\n', '')
    t.equal(Buffer.concat(p.seen.map((s) => s.raw)).toString(), expected)
  }
})

t.test('Xinference: a mid-stream error frame is an ordinary event', async (t) => {
  const p = parser()
  p.push(Buffer.from('data: {"error": "429: Rate limit reached"}\r\n\r\n'))
  t.equal(p.seen[0]?.event.data, '{"error": "429: Rate limit reached"}')
})

t.test('Uint8Array input, and blocks spanning chunks survive the caller reusing its buffer', async (t) => {
  const p = parser()
  const reused = new Uint8Array(8)
  const input = Buffer.from('data: spanning\r\n\r\ndata: x\n\n')
  for (let i = 0; i < input.length; i += 8) {
    const n = input.copy(reused, 0, i, i + 8)
    p.push(reused.subarray(0, n))
    reused.fill(0x21) // the caller overwrites its buffer after push()
  }
  t.strictSame(p.seen.map((s) => s.event.data), ['spanning', 'x'])
  t.equal(p.seen[0]?.raw.toString(), 'data: spanning\r\n\r\n')
})
