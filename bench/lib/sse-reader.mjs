// A small WHATWG event-stream reader (html.spec.whatwg.org, "Interpreting an
// event stream") for the load generator. It is fed decoded text in whatever
// pieces TCP delivers (the caller uses setEncoding('utf8'), whose decoder holds
// back a multi-byte character split across reads) and calls
// onEvent({ event, data, id }) once per blank-line-terminated event.
// LF, CRLF and CR line ends; a CRLF split across two pieces is one line end.

export function createSseReader (onEvent) {
  let rest = '' // a partial line waiting for the rest of it
  let afterCR = false // the last piece ended in CR: an LF first in the next one is the same line end
  let event = ''; let data = ''; let hasData = false; let id = null

  function line (l) {
    if (l === '') { // dispatch; an event without data lines is dropped, as the spec says
      if (hasData) onEvent({ event: event || 'message', data, id })
      event = ''; data = ''; hasData = false; id = null
      return
    }
    if (l.charCodeAt(0) === 58) return // ':' comment, e.g. a keep-alive
    const c = l.indexOf(':')
    const field = c < 0 ? l : l.slice(0, c)
    let value = c < 0 ? '' : l.slice(c + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === 'data') { data = hasData ? `${data}\n${value}` : value; hasData = true } else if (field === 'event') event = value
    else if (field === 'id') id = value
  }

  function feed (s) {
    let start = 0
    if (afterCR) { afterCR = false; if (s.charCodeAt(0) === 10) start = 1 }
    // Fast path: no CR in this piece (what every server here sends), split on LF.
    if (s.indexOf('\r', start) < 0) {
      for (let nl; (nl = s.indexOf('\n', start)) >= 0; start = nl + 1) {
        line(rest ? rest + s.slice(start, nl) : s.slice(start, nl))
        rest = ''
      }
    } else {
      for (let i = start; i < s.length; i++) {
        const ch = s.charCodeAt(i)
        if (ch !== 10 && ch !== 13) continue
        line(rest + s.slice(start, i))
        rest = ''
        if (ch === 13) {
          if (i + 1 === s.length) afterCR = true
          else if (s.charCodeAt(i + 1) === 10) i++
        }
        start = i + 1
      }
    }
    if (start < s.length) rest += s.slice(start)
  }

  // At end of body: an unterminated last event is not dispatched (spec), so a
  // stream cut mid-event shows up as a missing end marker.
  return { feed }
}
