// Field rules of WHATWG HTML §9.2.6 "Interpreting an event stream", one input fed whole.
import t from 'tap'
import { createSseParser, type SseEvent } from '../../src/sse/parser.js'

type Seen = SseEvent & { raw: string }

function parse (input: string): { events: Seen[]; comments: string[]; pending: boolean } {
  const events: Seen[] = []
  const comments: string[] = []
  const parser = createSseParser({
    onEvent: (event, raw) => events.push({ ...event, raw: raw.toString() }),
    onComment: (text) => comments.push(text),
  })
  parser.push(Buffer.from(input))
  return { events, comments, pending: parser.end() }
}

const ev = (data: string, raw: string, more: Partial<SseEvent> = {}): Seen =>
  ({ event: '', data, id: undefined, retry: undefined, ...more, raw })

t.test('one data line', async (t) => {
  t.strictSame(parse('data: hello\n\n').events, [ev('hello', 'data: hello\n\n')])
})

t.test('multi-line data is joined with LF, no trailing LF', async (t) => {
  const input = 'data: a\ndata: b\ndata:\ndata: c\n\n'
  t.strictSame(parse(input).events, [ev('a\nb\n\nc', input)])
})

t.test('only ONE leading space of a value is removed', async (t) => {
  t.strictSame(parse('data:x\n\ndata:  two\n\n').events, [ev('x', 'data:x\n\n'), ev(' two', 'data:  two\n\n')])
})

t.test('a line without a colon is a field with an empty value', async (t) => {
  t.strictSame(parse('data\n\n').events, [ev('', 'data\n\n')])
  t.strictSame(parse('data\ndata\n\n').events, [ev('\n', 'data\ndata\n\n')])
})

t.test('an empty data: line still fires (data buffer is "\\n", not empty)', async (t) => {
  t.strictSame(parse('data:\n\n').events, [ev('', 'data:\n\n')])
})

t.test('comments are reported, skipped as fields, and kept in raw', async (t) => {
  const r = parse(': hi\n:no space\n:\ndata: x\n: mid\n\n')
  t.strictSame(r.comments, ['hi', 'no space', '', 'mid'])
  t.strictSame(r.events, [ev('x', ': hi\n:no space\n:\ndata: x\n: mid\n\n')])
})

t.test('event, id and retry', async (t) => {
  const input = 'event: update\nid: 42\nretry: 1500\ndata: {}\n\n'
  t.strictSame(parse(input).events, [ev('{}', input, { event: 'update', id: '42', retry: 1500 })])
})

t.test('field names are case-sensitive; unknown fields are ignored', async (t) => {
  const input = 'Data: no\nEVENT: no\nfoo: bar\nevent_: x\ndata: yes\n\n'
  t.strictSame(parse(input).events, [ev('yes', input)])
})

t.test('id: empty is allowed, NUL makes it ignored, the last valid one wins', async (t) => {
  t.strictSame(parse('id:\ndata: a\n\n').events, [ev('a', 'id:\ndata: a\n\n', { id: '' })])
  t.strictSame(parse('id: a\0b\ndata: a\n\n').events, [ev('a', 'id: a\0b\ndata: a\n\n')])
  t.strictSame(parse('id: 1\nid: 2\0\ndata: a\n\n').events[0]?.id, '1')
  t.strictSame(parse('id\ndata: a\n\n').events[0]?.id, '')
})

t.test('id and retry belong to their block only', async (t) => {
  const { events } = parse('id: 1\nretry: 5\nevent: e\ndata: a\n\ndata: b\n\n')
  t.strictSame(events[1], ev('b', 'data: b\n\n'))
})

t.test('retry: only ASCII digits count', async (t) => {
  const retryOf = (v: string): number | undefined => parse(`retry:${v}\ndata: x\n\n`).events[0]?.retry
  t.equal(retryOf(' 3000'), 3000)
  t.equal(retryOf('0'), 0)
  t.equal(retryOf(' 30s'), undefined)
  t.equal(retryOf(' -1'), undefined)
  t.equal(retryOf(' 1.5'), undefined)
  t.equal(retryOf('  1'), undefined) // two spaces: the second is part of the value
  t.equal(retryOf(''), undefined)
  t.equal(retryOf(' ١'), undefined) // ARABIC-INDIC DIGIT ONE is not an ASCII digit
})

t.test('a block with event: but no data fires nothing, and its raw is dropped', async (t) => {
  const r = parse('event: ping\nid: 7\n\ndata: a\n\n')
  t.strictSame(r.events, [ev('a', 'data: a\n\n')])
  t.strictSame(parse('event: x\n\n\n\n').events, [])
})

t.test('a final block without its blank line is not dispatched; end() says so', async (t) => {
  t.strictSame(parse('data: a\n\ndata: b\n'), { events: [ev('a', 'data: a\n\n')], comments: [], pending: true })
  t.strictSame(parse('data: a\n\ndata: b'), { events: [ev('a', 'data: a\n\n')], comments: [], pending: true })
  t.strictSame(parse('data: a\n\nevent: x\n').pending, true)
  t.strictSame(parse('data: a\n\n').pending, false)
  t.strictSame(parse('data: a\n\n: just a comment\n').pending, false)
  t.strictSame(parse('').pending, false)
})

t.test('the parser is reusable after end()', async (t) => {
  const seen: string[] = []
  const p = createSseParser({ onEvent: (e) => seen.push(e.data) })
  p.push(Buffer.from('data: lost'))
  t.equal(p.end(), true)
  p.push(Buffer.from('\uFEFFdata: b\n\n'))
  t.equal(p.end(), false)
  t.strictSame(seen, ['b'])
})
