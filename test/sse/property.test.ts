// Property: for any stream encoded from generated events (random LF/CR/CRLF line ends, comments,
// BOM), every way of cutting the bytes into chunks gives the same events and the same
// concatenated raw bytes as feeding it whole, and those match the model.
import t from 'tap'
import fc from 'fast-check'
import assert from 'node:assert/strict'
import { createSseParser, type SseEvent } from '../../src/sse/parser.js'

// A value: any Unicode without CR/LF, normalised through UTF-8 (lone surrogates become U+FFFD).
const value = fc
  .string({ unit: 'binary', maxLength: 12 })
  .map((s) => Buffer.from(s.replace(/[\r\n]/g, '')).toString())
const ascii = fc.string({ unit: 'binary-ascii', maxLength: 8 }).map((s) => s.replace(/[\r\n]/g, ''))

const block = fc.record({
  comments: fc.array(value, { maxLength: 2 }),
  event: fc.option(value, { nil: undefined }),
  id: fc.option(fc.oneof(value, fc.constant('a\0b')), { nil: undefined }),
  retry: fc.option(fc.oneof(fc.nat().map(String), ascii), { nil: undefined }),
  unknown: fc.boolean(),
  data: fc.array(value, { maxLength: 3 }), // [] = empty data buffer: fires nothing
})
const stream = fc.record({
  bom: fc.boolean(),
  blocks: fc.array(block, { maxLength: 6 }),
  tail: fc.option(value, { nil: undefined }), // an unterminated last block
  ends: fc.infiniteStream(fc.constantFrom('\n', '\r', '\r\n')),
})

type Stream = typeof stream extends fc.Arbitrary<infer S> ? S : never
type Outcome = { events: SseEvent[]; raw: string; pending: boolean } // raw: all raw bytes, latin1

function encode (s: Stream): Outcome & { bytes: Buffer } {
  const ends = s.ends
  let text = ''
  let prevEnd = ''
  let raw = ''
  const events: SseEvent[] = []
  const line = (l: string): string => {
    let end = ends.next().value as string
    // A lone CR followed by an LF line end of an empty line would be read as one CRLF.
    if (prevEnd === '\r' && l === '' && end === '\n') end = '\r\n'
    prevEnd = end
    return l + end
  }
  for (const b of s.blocks) {
    let blk = ''
    for (const c of b.comments) blk += line(':' + c)
    if (b.event !== undefined) blk += line('event: ' + b.event)
    if (b.id !== undefined) blk += line('id: ' + b.id)
    if (b.retry !== undefined) blk += line('retry: ' + b.retry)
    if (b.unknown) blk += line('unknown: x')
    for (const d of b.data) blk += line('data: ' + d)
    blk += line('')
    text += blk
    if (b.data.length > 0) {
      raw += blk
      const retry = /^[0-9]+$/.test(b.retry ?? '') ? Number(b.retry) : undefined
      const id = b.id?.includes('\0') ? undefined : b.id
      events.push({ event: b.event ?? '', data: b.data.join('\n'), id, retry })
    }
  }
  if (s.tail !== undefined) text += 'data: ' + s.tail
  const bom = s.bom ? '\uFEFF' : ''
  return { bytes: Buffer.from(bom + text), events, raw: Buffer.from(raw).toString('latin1'), pending: s.tail !== undefined }
}

function run (chunks: Buffer[]): Outcome {
  const events: SseEvent[] = []
  const raws: Buffer[] = []
  const parser = createSseParser({ onEvent: (e, r) => { events.push(e); raws.push(Buffer.from(r)) } })
  for (const c of chunks) parser.push(c)
  const pending = parser.end()
  return { events, raw: Buffer.concat(raws).toString('latin1'), pending }
}

function cut (bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const p of at) {
    chunks.push(bytes.subarray(from, p))
    from = p
  }
  chunks.push(bytes.subarray(from))
  return chunks
}

t.test('chunking never changes events or raw bytes', async (t) => {
  // node:assert throws, so fast-check can shrink a failure to a minimal stream and cut.
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 40 }), (s, points) => {
        const { bytes, ...model } = encode(s)
        const whole = run([bytes])
        assert.deepStrictEqual(whole, model, 'whole matches the model')
        assert.deepStrictEqual(run(cut(bytes, points)), whole, 'cut matches whole')
      }),
      { numRuns: 1000 }
    )
  )
})
