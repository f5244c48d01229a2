import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

const CRLF = 0x0a0d // little-endian "\r\n" for writeUInt16LE
const HEX = Buffer.from('0123456789abcdef', 'latin1')

/**
 * The client side of a stream (one per stream; a class so that an open stream
 * holds one object, its methods shared): collects the frames produced from one upstream
 * read and writes them as ONE chunk of the chunked body, in one `write()`.
 *
 * Why not `res.write()` per frame: Node's ServerResponse frames every write
 * itself (size line, data, CRLF: a corked `writev` of four buffers and a
 * `process.nextTick` to uncork). Here the chunk is framed into one Buffer
 * (size line + frames + CRLF, copied: a frame is a few hundred bytes) and
 * handed to the socket with one `socket.write()`, one `write(2)` for all the
 * frames of one upstream read (bench/README.md).
 *
 * Node still owns the response: it writes the status line and headers
 * (`writeHead` + `flushHeaders`, in the same syscall as the first chunk) and
 * the last-chunk terminator on `res.end()`, so keep-alive, 'finish' and
 * 'close' behave as for any response. Only the chunks in between bypass it,
 * and only when it is safe: HTTP/1.1 chunked, and the socket belongs to this
 * response (a pipelined request's response waits for the socket, and then
 * goes through `res.write()` like an HTTP/1.0 close-delimited one).
 */
export class ClientWriter {
  /** The response's socket, when chunks bypass res.write() (see above); undefined otherwise. */
  #direct: Socket | undefined
  #started = false
  /** The status line and headers were handed to the socket (direct mode). */
  #headed = false
  /** The socket is corked until the next tick (#corkUntilNextTick). */
  #corked = false
  // Most flushes carry one frame: keep it out of an array.
  #one: string | Buffer | undefined = undefined
  #more: Array<string | Buffer> | undefined = undefined
  /** performance.now() of the last flush that wrote something (the heartbeat reads it). */
  lastWriteAt = performance.now()

  constructor (private readonly res: ServerResponse) {}

  /** Sets the status and headers; they are sent with the first chunk (or by flush() with nothing queued). */
  start (statusCode: number, headers: OutgoingHttpHeaders): void {
    const res = this.res
    res.writeHead(statusCode, headers)
    const socket = res.socket
    this.#direct = res.chunkedEncoding && socket !== null && !socket.destroyed ? socket : undefined
    this.#started = true
  }

  /** Queues bytes for the next flush. */
  push (out: string | Buffer): void {
    if (this.#one === undefined) this.#one = out
    else (this.#more ??= []).push(out)
  }

  /** Writes what was queued as one chunk; false when the socket's buffer is full (wait for drain). */
  flush (): boolean {
    return this.#started ? this.#write() : true
  }

  /** Flushes, then ends the response (terminator in the same write). */
  end (): void {
    const direct = this.#direct
    if (!direct) {
      const out = this.#take()
      if (out === undefined) this.res.end()
      else this.res.end(out)
      return
    }
    // res.end() uncorks fully: the last chunk and Node's terminator (0 CRLF CRLF) go out in one writev.
    direct.cork()
    this.#write()
    this.res.end()
  }

  /** Calls `fn` once the socket's buffer has drained. */
  onDrain (fn: () => void): void {
    if (this.#direct) this.#direct.once('drain', fn)
    else this.res.once('drain', fn)
  }

  /** The queued pieces as one chunk of the chunked body (direct), or as one payload for res.write(). */
  #take (): Buffer | string | undefined {
    const first = this.#one
    const rest = this.#more
    this.#one = undefined
    this.#more = undefined
    if (first === undefined) return undefined
    if (!this.#direct) {
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

  #write (): boolean {
    const out = this.#take()
    const direct = this.#direct
    if (!direct) {
      if (out === undefined) return true
      this.lastWriteAt = performance.now()
      return this.res.write(out)
    }
    if (direct.destroyed) return true
    if (!this.#headed) {
      this.#headed = true
      this.#corkUntilNextTick(direct)
      // The status line and headers leave with the first chunk.
      this.res.flushHeaders()
      this.lastWriteAt = performance.now()
      return out === undefined || direct.write(out)
    }
    if (out === undefined) return true
    this.#corkUntilNextTick(direct)
    this.lastWriteAt = performance.now()
    return direct.write(out)
  }

  /**
   * undici hands over an upstream read one HTTP chunk at a time (an upstream that writes each
   * frame separately sends one chunk per frame), and several may come from one read; the end of
   * the upstream's answer often comes in the same read as its last frames. Corked until the
   * next tick, all that one read produced leaves in one writev, as Node's res.write() does
   * (bench/README.md: 3 → 2 syscalls per short stream).
   */
  #corkUntilNextTick (socket: Socket): void {
    if (this.#corked) return
    this.#corked = true
    socket.cork()
    process.nextTick(ClientWriter.#uncorkLater, this, socket)
  }

  /** The tick's writes are done (res.end() may have fully uncorked the socket already: then this does nothing). */
  static #uncorkLater (writer: ClientWriter, socket: Socket): void {
    writer.#corked = false
    socket.uncork()
  }
}

function put (out: Buffer, at: number, piece: string | Buffer): number {
  return typeof piece === 'string' ? out.write(piece, at) : piece.copy(out, at)
}
