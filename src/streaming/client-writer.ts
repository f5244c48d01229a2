import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

const CRLF = 0x0a0d // little-endian "\r\n" for writeUInt16LE
const HEX = Buffer.from('0123456789abcdef', 'latin1')

/**
 * The client side of a stream: collects the frames produced from one upstream
 * read and writes them as ONE chunk of the chunked body, in one `write()`.
 *
 * Why not `res.write()` per frame: Node's ServerResponse frames every write
 * itself (size line, data, CRLF: four socket writes, corked, then a `writev`
 * of four buffers, plus a `process.nextTick` to uncork), so each frame cost a
 * writev with its per-buffer work in JS and C++. Here the chunk is framed into
 * one Buffer (size line + frames + CRLF, copied: a frame is a few hundred
 * bytes) and handed to the socket with one `socket.write()` → one `write(2)`.
 * In the bench's paced scenario this took the client side from ~9 to ~4 µs
 * per frame; see bench/README.md.
 *
 * Node still owns the response: it writes the status line and headers
 * (`writeHead` + `flushHeaders`, in the same syscall as the first chunk) and
 * the last-chunk terminator on `res.end()`, so keep-alive, 'finish' and
 * 'close' behave as for any response. Only the chunks in between bypass it,
 * and only when it is safe: HTTP/1.1 chunked, and the socket belongs to this
 * response (a pipelined request's response waits for the socket, and then
 * goes through `res.write()` like an HTTP/1.0 close-delimited one).
 */
export interface ClientWriter {
  /** Sets the status and headers; they are sent with the first chunk (or at once by flush() with nothing queued). */
  start (statusCode: number, headers: OutgoingHttpHeaders): void
  /** Queues bytes for the next flush. */
  push (out: string | Buffer): void
  /** Writes what was queued as one chunk; false when the socket's buffer is full (wait for drain). */
  flush (): boolean
  /** Flushes, then ends the response (terminator in the same write). */
  end (): void
  /** Calls `fn` once the socket's buffer has drained. */
  onDrain (fn: () => void): void
  /** performance.now() of the last flush that wrote something (the heartbeat reads it). */
  readonly lastWriteAt: number
}

export function createClientWriter (res: ServerResponse): ClientWriter {
  let direct: Socket | undefined
  let started = false
  /** The status line and headers were handed to the socket (direct mode). */
  let headed = false
  // Most flushes carry one frame: keep it out of an array.
  let one: string | Buffer | undefined
  let more: Array<string | Buffer> | undefined
  let lastWriteAt = performance.now()

  /** The queued pieces as one chunk of the chunked body (direct), or as one payload for res.write(). */
  function take (): Buffer | string | undefined {
    const first = one
    const rest = more
    one = undefined
    more = undefined
    if (first === undefined) return undefined
    if (!direct) {
      if (rest === undefined) return first
      return Buffer.concat([first, ...rest].map((p) => typeof p === 'string' ? Buffer.from(p) : p))
    }
    let size = typeof first === 'string' ? Buffer.byteLength(first) : first.length
    if (rest !== undefined) for (const p of rest) size += typeof p === 'string' ? Buffer.byteLength(p) : p.length
    let digits = 1
    while (size >>> (digits * 4) !== 0) digits++
    const out = Buffer.allocUnsafe(digits + 2 + size + 2)
    for (let i = digits - 1, n = size; i >= 0; i--, n >>>= 4) out[i] = HEX[n & 0xf] as number
    out.writeUInt16LE(CRLF, digits)
    let at = digits + 2
    at += put(out, at, first)
    if (rest !== undefined) for (const p of rest) at += put(out, at, p)
    out.writeUInt16LE(CRLF, at)
    return out
  }

  function write (): boolean {
    const out = take()
    if (!direct) return out === undefined ? true : res.write(out)
    if (direct.destroyed) return true
    if (!headed) {
      headed = true
      // The status line, the headers and the first chunk leave in one writev.
      direct.cork()
      res.flushHeaders()
      const ok = out === undefined || direct.write(out)
      direct.uncork()
      if (out !== undefined) lastWriteAt = performance.now()
      return ok
    }
    if (out === undefined) return true
    lastWriteAt = performance.now()
    return direct.write(out)
  }

  return {
    start (statusCode, headers) {
      res.writeHead(statusCode, headers)
      const socket = res.socket
      direct = res.chunkedEncoding && socket !== null && !socket.destroyed ? socket : undefined
      started = true
    },
    push (out) {
      if (one === undefined) one = out
      else (more ??= []).push(out)
    },
    flush () {
      return started ? write() : true
    },
    end () {
      if (!direct) {
        const out = take()
        if (out === undefined) res.end()
        else res.end(out)
        return
      }
      // res.end() uncorks fully: the last chunk and Node's terminator (0 CRLF CRLF) go out in one writev.
      direct.cork()
      write()
      res.end()
    },
    onDrain (fn) {
      if (direct) direct.once('drain', fn)
      else res.once('drain', fn)
    },
    get lastWriteAt () { return lastWriteAt },
  }
}

function put (out: Buffer, at: number, piece: string | Buffer): number {
  return typeof piece === 'string' ? out.write(piece, at) : piece.copy(out, at)
}
