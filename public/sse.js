// A tiny incremental reader for text/event-stream (WHATWG "server-sent events" parsing rules).
//
// Why it buffers: the network hands us arbitrary chunks, not events. One read can end in the middle
// of a line ("data: {\"cont"), in the middle of a CRLF pair, or even in the middle of a multi-byte
// UTF-8 character. So bytes go through a streaming TextDecoder (which keeps a split character until
// its last byte arrives), text is cut into lines only where a line ending is actually present, the
// unfinished tail waits for the next read, and an event is dispatched only at its blank line.

export class SSEParser {
  /** @param {(ev: {type: string, data: string, id: string}) => void} onEvent */
  constructor (onEvent) {
    this.onEvent = onEvent
    this.buf = ''           // text after the last complete line
    this.pendingCR = false  // the previous chunk ended in '\r': a '\n' now is the rest of a CRLF
    this.type = ''
    this.data = []
    this.lastEventId = ''
  }

  push (text) {
    if (!text) return
    if (this.pendingCR && text[0] === '\n') text = text.slice(1)
    this.pendingCR = false
    this.buf += text
    const eol = /\r\n|\r|\n/g // LF, CRLF and lone CR all end a line
    let start = 0
    for (let m; (m = eol.exec(this.buf));) {
      this.line(this.buf.slice(start, m.index))
      start = eol.lastIndex
      if (m[0] === '\r' && start === this.buf.length) this.pendingCR = true
    }
    this.buf = this.buf.slice(start)
  }

  line (line) {
    if (line === '') return this.dispatch()
    if (line[0] === ':') return // comment, e.g. the relay's ": keep-alive" heartbeat
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value[0] === ' ') value = value.slice(1)
    if (field === 'event') this.type = value
    else if (field === 'data') this.data.push(value) // several data lines join with '\n'
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value
    // "retry" and unknown fields are ignored
  }

  dispatch () {
    if (this.data.length) {
      this.onEvent({ type: this.type || 'message', data: this.data.join('\n'), id: this.lastEventId })
    }
    this.type = ''
    this.data = []
  }
}

/**
 * Yields the events of a fetch() response body as they complete. An event that was still
 * unfinished when the body ended is dropped (as EventSource does): a cut stream is not an event.
 * Rejects if the read fails (abort, network reset). Leaving the loop early cancels the body.
 */
export async function * readEvents (body) {
  const reader = body.getReader()
  const decoder = new TextDecoder('utf-8')
  const ready = []
  const parser = new SSEParser((ev) => ready.push(ev))
  try {
    for (;;) {
      const { done, value } = await reader.read()
      parser.push(done ? decoder.decode() : decoder.decode(value, { stream: true }))
      yield * ready.splice(0)
      if (done) return
    }
  } finally {
    reader.cancel().catch(() => {}) // no-op when the body already ended
  }
}
