import type { Chunk } from './chunk-fields.js'

/**
 * The first `"model": "…"` member is the chunk's own (OpenAI-style servers put it
 * before `choices`, and an unescaped quote cannot occur inside a string value),
 * so replacing that text changes the model and not one other byte of the frame.
 */
const MODEL_MEMBER = /"model"\s*:\s*"(?:[^"\\]|\\.)*"/

/**
 * A chunk's JSON with its `model` rewritten to the alias the client used: the
 * one alias rewrite of the direct stream (formats/openai.ts) and the stored
 * stream (stream-log/producer.ts). A frame without the member is re-encoded
 * as a last resort.
 */
export function withModel (data: string, alias: string): string {
  const replaced = data.replace(MODEL_MEMBER, () => `"model":${JSON.stringify(alias)}`)
  if (replaced !== data || !data.includes('"model"')) return replaced
  const chunk = JSON.parse(data) as Chunk
  chunk.model = alias
  return JSON.stringify(chunk)
}
