/**
 * A request body that undici writes once and then cannot keep.
 *
 * undici's `Request` holds its body until the response has ended: a string
 * body becomes a Buffer kept for the whole request. For a stream that is the
 * prompt, held for as long as the answer streams (minutes), per open stream:
 * tens of KB for a long chat, 4 MiB at the body limit. Given as an iterable
 * instead, undici writes each chunk as it comes (`writeIterable`: with a
 * content-length header, the request line, headers and body leave in one
 * corked write, as for a Buffer), and this object lets go of its chunk the
 * moment it has handed it over, so after the write nothing keeps the prompt.
 */
export class OneShotBody implements Iterable<Buffer> {
  #chunk: Buffer | undefined

  constructor (chunk: Buffer) {
    this.#chunk = chunk
  }

  /** The byte length, for the content-length header (undici cannot measure an iterable). */
  get length (): number {
    return this.#chunk?.length ?? 0
  }

  * [Symbol.iterator] (): Iterator<Buffer> {
    const chunk = this.#chunk
    this.#chunk = undefined
    if (chunk !== undefined) yield chunk
  }
}
