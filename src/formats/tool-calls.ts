/**
 * One tool call as the `content` format sends it (SPEC §5), once its
 * arguments are complete: `event: tool_call` with exactly these members.
 */
export interface ToolCall {
  /** The call's position among the stream's tool calls: 0, 1, … (also when the upstream numbered every call 0). */
  index: number
  /** The upstream's call id (`call_…`); null when it sent none. */
  id: string | null
  name: string
  /** The arguments JSON text, as the model wrote it (not parsed: a model may write invalid JSON). */
  arguments: string
}

/** One element of `delta.tool_calls`: the fields a server may send, none of them trusted. */
interface Fragment {
  index?: unknown
  id?: unknown
  function?: { name?: unknown, arguments?: unknown }
}

/**
 * Puts a stream's tool calls together from their delta fragments.
 *
 * OpenAI sends a call's `index`, `id`, `type` and `function.name` in its
 * first fragment, then `function.arguments` pieces under the same `index`;
 * the next call has the next index. Ollama numbers every call 0, so a
 * fragment with an `id` other than the open call's also starts a new call.
 * A call is complete when the next one starts or the choice finishes
 * (`finish()`): only then is it handed out, whole. A stream that breaks
 * before that never hands out the open call (no half arguments).
 *
 * The arguments are already decoded JSON strings at this level, so a piece
 * that ends inside a character's escape or a multi-byte character is just
 * concatenated with the next one.
 */
export class ToolCallAssembler {
  #open: ToolCall | undefined
  /** The upstream's index of the open call (it may be absent, or 0 for every call). */
  #openIndex: number | undefined
  #started = 0

  /** Takes one delta's `tool_calls`; pushes onto `done` the calls that a new call's start completed. */
  add (fragments: unknown, done: ToolCall[]): void {
    if (!Array.isArray(fragments)) return
    for (const fragment of fragments as unknown[]) this.take(fragment, done)
  }

  /**
   * Takes one fragment (one element of `delta.tool_calls`) and says whether
   * it started a new call. The Responses facade (responses/chat-stream-events.ts)
   * opens its `function_call` items on this answer, so the content events and
   * the facade tell calls apart by the one rule above. The call a new one
   * completed goes onto `done`; a caller that keeps its own items passes none.
   */
  take (fragment: unknown, done?: ToolCall[]): boolean {
    if (fragment === null || typeof fragment !== 'object') return false
    return this.#take(fragment as Fragment, done)
  }

  /** The choice finished (or the stream ended cleanly): the open call is complete. */
  finish (done?: ToolCall[]): void {
    if (this.#open !== undefined) done?.push(this.#open)
    this.#open = undefined
    this.#openIndex = undefined
  }

  #take (fragment: Fragment, done: ToolCall[] | undefined): boolean {
    const index = typeof fragment.index === 'number' ? fragment.index : undefined
    const id = typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : undefined
    let call = this.#open
    const starts = call === undefined ||
      (index !== undefined && index !== this.#openIndex) ||
      (id !== undefined && call.id !== null && id !== call.id)
    if (starts) {
      this.finish(done)
      call = { index: this.#started++, id: null, name: '', arguments: '' }
      this.#open = call
      this.#openIndex = index
    }
    const open = call as ToolCall
    // Some servers repeat the id (or send it late) on later fragments of the same call.
    if (open.id === null && id !== undefined) open.id = id
    const fn = fragment.function
    if (fn === null || typeof fn !== 'object') return starts
    // The name comes whole in the first fragment; servers that repeat it must not double it.
    if (open.name === '' && typeof fn.name === 'string') open.name = fn.name
    if (typeof fn.arguments === 'string') open.arguments += fn.arguments
    // A server that sends the arguments as an object (never split) rather than JSON text.
    else if (fn.arguments !== null && typeof fn.arguments === 'object') open.arguments += JSON.stringify(fn.arguments)
    return starts
  }
}
