/**
 * The client's JSON text as the upstream's body (relay/plan.ts, relay/passthrough.ts), or
 * undefined when the parsed body must be serialised instead.
 *
 * The relay checks the body it parsed (JSON.parse keeps the LAST of duplicate keys); an upstream
 * may keep the first, or refuse duplicates. So a text that could read differently there is not
 * passed on as it is: one naming `model`, `stream` or `stream_options` more than once (which also
 * covers the same key nested deeper: serialising is then merely slower), one spelling letters with
 * \u escapes (a key could hide behind them), and one starting with a byte-order mark (the parser
 * skipped it; some upstreams refuse it).
 */
export function forwardableText (text: string | undefined): string | undefined {
  if (text === undefined || text.charCodeAt(0) === 0xfeff || text.includes('\\u')) return undefined
  if (count(text, '"model"') !== 1 || count(text, '"stream"') > 1 || count(text, '"stream_options"') > 1) return undefined
  return text
}

/** Occurrences of `needle` in `text`, counted up to 2. */
function count (text: string, needle: string): number {
  const first = text.indexOf(needle)
  if (first === -1) return 0
  return text.indexOf(needle, first + needle.length) === -1 ? 1 : 2
}
