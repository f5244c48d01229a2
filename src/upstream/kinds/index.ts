import { openaiKind } from './openai.js'
import type { UpstreamKind } from './types.js'
import { xinferenceKind } from './xinference.js'

/**
 * Every upstream kind (wire dialect) by name, and the one list of kind names:
 * the config schema, `UPSTREAM_KIND` and the router all derive from it. A new
 * dialect is one file plus one line here.
 */
export const KINDS = {
  openai: openaiKind,
  xinference: xinferenceKind,
} as const satisfies Readonly<Record<string, UpstreamKind>>

export type KindName = keyof typeof KINDS

export const KIND_NAMES = Object.keys(KINDS) as KindName[]

export function isKindName (value: unknown): value is KindName {
  return typeof value === 'string' && Object.hasOwn(KINDS, value)
}
