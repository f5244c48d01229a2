/**
 * A pure, byte-level Server-Sent-Events parser (WHATWG HTML §9.2.6 "Interpreting an event stream").
 *
 * No I/O and no timers: feed it bytes with `push()`, it calls `onEvent()` synchronously for every
 * dispatched event together with the exact upstream bytes of that event block, so a relay can
 * forward frames untouched without re-encoding them.
 *
 * Hot path (runs per frame for every concurrent stream): bytes are scanned on the Buffer with
 * `indexOf` and short loops; only field values of complete lines are decoded; a block that lies
 * inside one chunk is handed out as a `subarray` (no copy); unfinished lines and blocks are kept as
 * fragments and joined once with `Buffer.concat` when complete.
 */

export interface SseEvent {
  /** The `event:` field, or '' when the block had none (the client treats that as 'message'). */
  event: string
  /** The joined `data:` lines (joined with '\n', no trailing LF), per WHATWG. */
  data: string
  /** The `id:` field if this block had one (the raw value, '' allowed), else undefined. An id containing U+0000 is ignored (undefined). */
  id: string | undefined
  /** `retry:` if this block had one made only of ASCII digits (at least one), else undefined. */
  retry: number | undefined
}

export interface SseParserHandlers {
  /**
   * Called once per dispatched event, synchronously, in order. `raw` is the exact upstream bytes
   * of this event block: from the first line after the previous blank line (or stream start,
   * after a BOM) up to and including the blank line that terminated it (its CRLF, LF or CR).
   * Comment lines inside the block are included. It may be a subarray view into the pushed chunk,
   * valid only during the callback: a consumer that keeps it must copy.
   * Do not call `push()`/`end()` from inside the callback; an exception thrown by a handler
   * propagates out of `push()` and the rest of that chunk is lost.
   */
  onEvent(event: SseEvent, raw: Buffer): void
  /**
   * Optional: called for every comment line with its text after the ':' and after ONE leading
   * space, if present (the same rule as field values): `: ping - 2024` gives `'ping - 2024'`.
   */
  onComment?(text: string): void
}

export interface SseParser {
  /** Feed the next chunk of bytes, any size, cut anywhere (inside CRLF, inside a multi-byte UTF-8 char). */
  push(chunk: Buffer | Uint8Array): void
  /**
   * End of input. Returns true if an incomplete block (bytes after the last blank line that had
   * any field, a partial last line included) was pending; per WHATWG that block is NOT dispatched.
   * The parser is reset and may be reused for a new stream.
   */
  end(): boolean
}

const LF = 0x0a
const CR = 0x0d
const COLON = 0x3a
const SPACE = 0x20
const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/**
 * One parser per stream. A class rather than a closure per helper: an open stream holds one
 * object with its state, its methods shared on the prototype (the closure form held seven
 * function objects and a context per stream: bench/README.md on memory).
 */
export function createSseParser (handlers: SseParserHandlers): SseParser {
  return new EventStreamParser(handlers)
}

class EventStreamParser implements SseParser {
  readonly #handlers: SseParserHandlers

  // -- stream state --
  /** BOM bytes matched so far at stream start (0..2), or -1 once the start of the stream is decided. */
  #bom = 0
  /** The previous chunk ended with a CR line end: an LF opening the next chunk belongs to it (§9.2.6: CRLF is one line end). */
  #skipLF = false
  /** That CR ended a blank line: dispatch waits for the next byte so `raw` can include the LF of a split CRLF. */
  #deferred = false
  /**
   * Bytes of a block that spans chunks, copied once into one growing buffer (doubling: O(n) in
   * all, and the block is already contiguous for `raw` at dispatch). Never a view of the caller's
   * chunk: the caller may reuse it, and a small tail must not pin a large network buffer.
   * On dispatch it is handed over as `raw` and never written again (a consumer may well pass
   * `raw` to `socket.write()`, which can queue it without copying).
   */
  #acc: Buffer | undefined = undefined
  #accLen = 0
  /** Offset in `acc` where the unfinished last line starts, or -1. */
  #partial = -1

  // -- current block (WHATWG's buffers, scoped to one block as the SseEvent contract asks) --
  #event = ''
  #data = ''
  #hasData = false // WHATWG's "data buffer is empty" test: `data:` with an empty value still counts
  #id: string | undefined = undefined
  #retry: number | undefined = undefined
  #hasField = false

  constructor (handlers: SseParserHandlers) {
    // No bound copies of push/end: call them as methods (bound functions are held per open stream).
    this.#handlers = handlers
  }

  #processLine (b: Buffer, s: number, e: number): void {
    // §9.2.6: a line starting with ':' is a comment.
    if (b[s] === COLON) {
      const onComment = this.#handlers.onComment
      if (onComment !== undefined) {
        onComment(b.toString('utf8', b[s + 1] === SPACE ? s + 2 : s + 1, e))
      }
      return
    }
    this.#hasField = true
    // Field names are short: a bounded loop beats indexOf, which could run past the line end.
    let c = s
    while (c < e && b[c] !== COLON) c++
    const nameLen = c - s
    // No colon: the whole line is the name and the value is ''. Otherwise drop ONE leading space.
    let v = c < e ? c + 1 : e
    if (v < e && b[v] === SPACE) v++
    // Names are compared as bytes (case-sensitive, §9.2.6) so that only values are ever decoded.
    if (nameLen === 4) {
      if (b[s] === 0x64 && b[s + 1] === 0x61 && b[s + 2] === 0x74 && b[s + 3] === 0x61) {
        // "data": WHATWG appends value + LF and strips the final LF on dispatch; joining with '\n' is the same.
        const value = b.toString('utf8', v, e)
        this.#data = this.#hasData ? this.#data + '\n' + value : value
        this.#hasData = true
      }
    } else if (nameLen === 5) {
      if (b[s] === 0x65 && b[s + 1] === 0x76 && b[s + 2] === 0x65 && b[s + 3] === 0x6e && b[s + 4] === 0x74) {
        this.#event = b.toString('utf8', v, e) // "event"
      } else if (b[s] === 0x72 && b[s + 1] === 0x65 && b[s + 2] === 0x74 && b[s + 3] === 0x72 && b[s + 4] === 0x79) {
        // "retry": only if the value is all ASCII digits, otherwise ignored (§9.2.6). An empty value is ignored too.
        let n = v < e ? 0 : -1
        for (let i = v; i < e; i++) {
          const d = (b[i] as number) - 0x30
          if (d < 0 || d > 9) {
            n = -1
            break
          }
          n = n * 10 + d
        }
        if (n >= 0) this.#retry = n
      }
    } else if (nameLen === 2 && b[s] === 0x69 && b[s + 1] === 0x64) {
      // "id": ignored if it contains U+0000 (§9.2.6). In UTF-8 that is exactly the byte 0x00.
      let nul = false
      for (let i = v; i < e; i++) {
        if (b[i] === 0) {
          nul = true
          break
        }
      }
      if (!nul) this.#id = b.toString('utf8', v, e)
    }
    // Any other name is ignored (§9.2.6).
  }

  /** A blank line ended the block whose bytes are `raw`: reset first, then fire (if there is data). */
  #dispatch (raw: Buffer): void {
    const fire = this.#hasData
    const ev: SseEvent = { event: this.#event, data: this.#data, id: this.#id, retry: this.#retry }
    this.#resetBlock()
    // §9.2.6 dispatch: an empty data buffer fires nothing, even with `event:` set.
    if (fire) this.#handlers.onEvent(ev, raw)
  }

  /** Dispatches the block held in `acc` and hands `acc` over (see its comment). */
  #dispatchAcc (): void {
    const raw = (this.#acc as Buffer).subarray(0, this.#accLen)
    this.#acc = undefined
    this.#accLen = 0
    this.#dispatch(raw)
  }

  /** Appends `buf[start, end)` to `acc`, growing it by doubling. */
  #append (buf: Buffer, start: number, end: number): void {
    const need = this.#accLen + end - start
    let acc = this.#acc
    if (acc === undefined || acc.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, acc === undefined ? 256 : acc.length * 2))
      if (acc !== undefined) acc.copy(grown, 0, 0, this.#accLen)
      acc = this.#acc = grown
    }
    if (end - start > 16) {
      this.#accLen += buf.copy(acc, this.#accLen, start, end)
    } else {
      // A few bytes (a line end, the tail of a line): a loop is cheaper than the call into copy().
      let at = this.#accLen
      for (let i = start; i < end; i++) acc[at++] = buf[i] as number
      this.#accLen = at
    }
  }

  /** Runs once per stream on its first bytes: strips one leading BOM, which may arrive split. */
  #stripBom (buf: Buffer): Buffer {
    const held = this.#bom // BOM-prefix bytes held back from earlier chunks
    let bom = held
    let i = 0
    while (bom < 3 && i < buf.length && buf[i] === BOM[bom]) {
      bom++
      i++
    }
    if (bom === 3) {
      this.#bom = -1
      return buf.subarray(i)
    }
    if (i === buf.length) {
      this.#bom = bom
      return buf.subarray(i) // still a BOM prefix: wait for more bytes
    }
    this.#bom = -1
    // Not a BOM after all: the held-back bytes are content (rare path, a copy is fine).
    return held === 0 ? buf : Buffer.concat([BOM.subarray(0, held), buf])
  }

  push (chunk: Buffer | Uint8Array): void {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.#bom !== -1) buf = this.#stripBom(buf)
    const len = buf.length
    if (len === 0) return

    let pos = 0
    if (this.#skipLF) {
      this.#skipLF = false
      // The line that ended with that CR is in `acc` (a tail is always kept), so is this LF.
      if (buf[0] === LF) {
        pos = 1
        this.#append(buf, 0, 1)
      }
      if (this.#deferred) {
        this.#deferred = false
        this.#dispatchAcc()
      }
    }

    // Next LF / CR positions, cached so each is searched once per chunk however many lines it
    // holds (a fresh indexOf(CR) per line would rescan the chunk in LF-only streams: O(n²)).
    let nl = -1
    let nc = -1

    if (this.#partial !== -1) {
      // The first line continues a line from earlier chunks: complete it in `acc` and parse it there.
      nl = buf.indexOf(LF)
      if (nl < 0) nl = len
      nc = buf.indexOf(CR)
      if (nc < 0) nc = len
      const eol = nl < nc ? nl : nc
      if (eol === len) {
        this.#append(buf, 0, len)
        return
      }
      pos = eol + 1
      if (eol === nc) {
        if (pos === len) this.#skipLF = true
        else if (buf[pos] === LF) pos++
      }
      this.#append(buf, 0, pos) // the line and its line end, in one copy
      const lineStart = this.#partial
      this.#partial = -1 // before the call: state stays consistent if onComment throws
      this.#processLine(this.#acc as Buffer, lineStart, this.#accLen - pos + eol)
    }

    // Bytes of the current block in this chunk start here (earlier ones, if any, are in `acc`).
    let blockStart = pos

    while (pos < len) {
      const c = buf[pos]
      if (c === LF || c === CR) {
        // Blank line (checked before any indexOf: it is the common second line of `data: …\n\n`).
        let next = pos + 1
        if (c === CR) {
          if (next === len) {
            // A CR as the very last byte: an LF may follow in the next chunk and belongs to this
            // block's raw bytes, so the dispatch waits for the next push() (or end()).
            this.#append(buf, blockStart, len)
            this.#skipLF = true
            this.#deferred = true
            return
          }
          if (buf[next] === LF) next++
        }
        if (this.#accLen !== 0) {
          this.#append(buf, blockStart, next)
          this.#dispatchAcc()
        } else if (blockStart === 0 && next === len) {
          this.#dispatch(buf) // one block, one chunk: the common case, no allocation at all
        } else {
          this.#dispatch(buf.subarray(blockStart, next)) // the block lies inside this chunk: a view, no copy
        }
        pos = next
        blockStart = next
        continue
      }
      if (nl < pos) {
        nl = buf.indexOf(LF, pos)
        if (nl < 0) nl = len
      }
      if (nc < pos) {
        nc = buf.indexOf(CR, pos)
        if (nc < 0) nc = len
      }
      const eol = nl < nc ? nl : nc
      if (eol === len) break // unfinished line: kept below
      this.#processLine(buf, pos, eol)
      pos = eol + 1
      if (eol === nc) {
        if (pos === len) this.#skipLF = true
        else if (buf[pos] === LF) pos++
      }
    }

    // Keep the unfinished block (and line) for the next chunk.
    if (blockStart < len) {
      this.#append(buf, blockStart, len)
      if (pos < len) this.#partial = this.#accLen - (len - pos)
    }
  }

  end (): boolean {
    let pending: boolean
    if (this.#deferred) {
      // The stream ended right after a blank line's CR: the block is complete, dispatch it.
      this.#dispatchAcc()
      pending = false
    } else {
      // bom > 0: the stream was only a BOM prefix, i.e. garbage bytes of a field name.
      pending = this.#hasField || this.#bom > 0 || (this.#partial !== -1 && (this.#acc as Buffer)[this.#partial] !== COLON)
    }
    // §9.2.6: at end of input any pending data is discarded. Reset for reuse.
    this.#bom = 0
    this.#skipLF = false
    this.#deferred = false
    this.#acc = undefined
    this.#accLen = 0
    this.#partial = -1
    this.#resetBlock()
    return pending
  }

  /** Empties the current block's fields (after a dispatch, and at the end of input). */
  #resetBlock (): void {
    this.#event = ''
    this.#data = ''
    this.#hasData = false
    this.#id = undefined
    this.#retry = undefined
    this.#hasField = false
  }
}
