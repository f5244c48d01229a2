// Any way of cutting the bytes into chunks gives the same events and the same raw bytes:
// fixtures fed whole, byte by byte, and split at every single position.
import t from 'tap'
import { createSseParser, type SseEvent } from '../../src/sse/parser.js'

type Seen = SseEvent & { raw: string } // raw as latin1: one char per byte, so byte-exact

function feed (chunks: Buffer[]): { events: Seen[]; pending: boolean } {
  const events: Seen[] = []
  const parser = createSseParser({ onEvent: (e, raw) => events.push({ ...e, raw: raw.toString('latin1') }) })
  for (const chunk of chunks) parser.push(chunk)
  return { events, pending: parser.end() }
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8')
const latin1 = (s: string): string => bytes(s).toString('latin1')
const ev = (data: string, raw: string, more: Partial<SseEvent> = {}): Seen =>
  ({ event: '', data, id: undefined, retry: undefined, ...more, raw: latin1(raw) })

const fixtures: Array<{ name: string; input: string; events: Seen[]; pending: boolean }> = [
  {
    name: 'LF, CR and CRLF line ends mixed',
    input: 'data: a\r\ndata: b\rdata: c\n\r\n' + 'event: e\rdata: d\r\r' + 'data: f\n\n',
    events: [
      ev('a\nb\nc', 'data: a\r\ndata: b\rdata: c\n\r\n'),
      ev('d', 'event: e\rdata: d\r\r', { event: 'e' }),
      ev('f', 'data: f\n\n'),
    ],
    pending: false,
  },
  {
    name: 'multi-byte UTF-8 in values',
    input: 'event: 事件\ndata: 你好 😀\nid: é\n\n',
    events: [ev('你好 😀', 'event: 事件\ndata: 你好 😀\nid: é\n\n', { event: '事件', id: 'é' })],
    pending: false,
  },
  {
    name: 'BOM at start, comments, a dropped empty block and a pending tail',
    input: '\uFEFF: hi\r\ndata: x\r\n\r\n: ping\r\n\r\nevent: only\r\n\r\ndata: {"a":1}\r\n\r\ndata: cut',
    events: [ev('x', ': hi\r\ndata: x\r\n\r\n'), ev('{"a":1}', 'data: {"a":1}\r\n\r\n')],
    pending: true,
  },
  {
    name: 'a BOM later in the stream is content, not stripped',
    input: 'data: a\n\n\uFEFFdata: b\n\ndata: \uFEFFc\n\n',
    events: [ev('a', 'data: a\n\n'), ev('\uFEFFc', 'data: \uFEFFc\n\n')],
    pending: false,
  },
  {
    name: 'the stream ends right after a blank line ending in CR',
    input: 'data: a\r\r',
    events: [ev('a', 'data: a\r\r')],
    pending: false,
  },
  {
    name: 'a long line',
    input: `data: ${'x'.repeat(5000)}\n: ${'y'.repeat(300)}\n\n`,
    events: [ev('x'.repeat(5000), `data: ${'x'.repeat(5000)}\n: ${'y'.repeat(300)}\n\n`)],
    pending: false,
  },
]

for (const f of fixtures) {
  t.test(f.name, async (t) => {
    const input = bytes(f.input)
    t.strictSame(feed([input]), { events: f.events, pending: f.pending }, 'whole')
    const oneByOne = [...input].map((b) => Buffer.from([b]))
    t.strictSame(feed(oneByOne), { events: f.events, pending: f.pending }, 'byte by byte')
    for (let i = 0; i <= input.length; i++) {
      const r = feed([input.subarray(0, i), input.subarray(i)])
      if (!t.strictSame(r, { events: f.events, pending: f.pending }, `split at ${i}`)) break
    }
  })
}

t.test('a CRLF split between chunks is ONE line end', async (t) => {
  const expected = [ev('a', 'data: a\r\n\r\n'), ev('b', 'data: b\r\n\r\n')]
  t.strictSame(feed([bytes('data: a\r'), bytes('\n\r'), bytes('\ndata: b\r\n\r'), bytes('\n')]).events, expected)
  // Were the LF a line end of its own, 'data: a\r' + '\n' would be a blank line and fire early.
  t.strictSame(feed([bytes('data: a\r'), bytes('\ndata: b\r\n\r\n')]).events, [ev('a\nb', 'data: a\r\ndata: b\r\n\r\n')])
})

t.test('a multi-byte character cut inside a data value', async (t) => {
  const input = bytes('data: 你😀!\n\n')
  const cut = input.indexOf(0xf0) + 2 // inside the 4 bytes of 😀
  t.strictSame(feed([input.subarray(0, 8), input.subarray(8, cut), input.subarray(cut)]).events, [
    ev('你😀!', 'data: 你😀!\n\n'),
  ])
})

t.test('a BOM split across chunks is stripped; a BOM prefix that is not a BOM is content', async (t) => {
  t.strictSame(feed([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf]), bytes('data: a\n\n')]).events, [
    ev('a', 'data: a\n\n'),
  ])
  const notBom = Buffer.concat([Buffer.from([0xef, 0xbb]), bytes('data: a\n\ndata: b\n\n')])
  const r = feed([notBom.subarray(0, 1), notBom.subarray(1, 2), notBom.subarray(2)])
  t.strictSame(r.events, [ev('b', 'data: b\n\n')], 'the first line is an unknown field "\\xEF\\xBBdata"')
  t.equal(feed([Buffer.from([0xef, 0xbb])]).pending, true)
})
