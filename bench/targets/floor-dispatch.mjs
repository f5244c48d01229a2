// The forwarding loop both floor targets share (floor-node.mjs,
// floor-fastify.mjs): one undici Agent, `dispatch()` with a handler that
// writes the upstream's answer to a node:http ServerResponse as it comes.
// Shared so that the two floors differ only in what sits in front of it.
import { Agent } from 'undici'

// RFC 9110 §7.6.1: these describe the upstream connection, not the answer; Node
// sets its own framing (chunked, or the content-length passed through).
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'])

// undici's parser cannot be resumed from inside another response's data
// callback (one parser runs at a time): a resume from there is deferred.
let inData = false

/**
 * One request's handler (undici's controller API, as the relay's
 * upstream/http-upstream.ts). The client closing before the answer ended
 * aborts the upstream request; the client not reading pauses it.
 */
class Forward {
  constructor (res) {
    this.res = res
    this.controller = null
    this.done = false // upstream answer ended or failed
    this.closed = false // client went away first
    this.onDrain = () => {
      const c = this.controller
      if (c === null || !c.paused || this.done) return
      if (inData) queueMicrotask(() => { if (c.paused && !this.done) c.resume() })
      else c.resume()
    }
    res.on('close', () => {
      if (this.done) return
      this.closed = true
      this.controller?.abort(new Error('client closed'))
    })
  }

  onRequestStart (controller) {
    this.controller = controller
    if (this.closed) controller.abort(new Error('client closed'))
  }

  onResponseStart (controller, statusCode, headers) {
    // The raw header Buffers are kept by the controller for the whole answer; only
    // the parsed headers are used (the relay drops them too: less memory per stream).
    controller.rawHeaders = null
    if (statusCode < 200) return
    const out = {}
    for (const name in headers) if (!HOP.has(name)) out[name] = headers[name]
    this.res.writeHead(statusCode, out)
  }

  onResponseData (controller, chunk) {
    inData = true
    try {
      if (!this.res.write(chunk)) {
        controller.pause()
        this.res.once('drain', this.onDrain)
      }
    } finally {
      inData = false
    }
  }

  onResponseEnd () {
    this.done = true
    this.res.end()
  }

  onResponseError (_controller, err) {
    this.done = true
    if (this.closed) return
    // Before the answer started: a plain 502. After: cut the connection, so the
    // client sees a truncated answer rather than a clean end.
    if (!this.res.headersSent) this.res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: err.message } }))
    else this.res.destroy(err)
  }
}

/** upstream: http://127.0.0.1:<port> (an origin). */
export function createFloor (upstream) {
  const origin = new URL(upstream).origin
  // As the relay's upstream/dispatcher.ts: keep-alive pool, no cap on connections per origin.
  const agent = new Agent({ connections: null, pipelining: 1 })
  return {
    /** Forward body (bytes or a string) to origin+path; the answer goes to res. */
    forward (path, accept, body, res) {
      agent.dispatch({
        origin,
        path,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', accept: accept ?? 'application/json' },
      }, new Forward(res))
    },
  }
}
