import type { RelayConfig } from '../config/resolve.js'
import { ModelNotFoundError } from '../errors.js'
import { createDemoUpstream } from './demo-upstream.js'
import { createHttpUpstream } from './http-upstream.js'
import { openaiKind } from './kinds/openai.js'
import { xinferenceKind } from './kinds/xinference.js'
import type { UpstreamKind } from './kinds/types.js'
import type { Upstream } from './types.js'

const KINDS: Record<string, UpstreamKind> = { openai: openaiKind, xinference: xinferenceKind }

/** Where a request for a model goes. */
export interface Route {
  /** The name the client asked for (maybe an alias). */
  publicModel: string
  /** The name the upstream knows. */
  upstreamModel: string
  /** True when `publicModel` is an alias: `openai` frames then get their `model` rewritten back. */
  aliased: boolean
  /** Upstreams serving the model, in the order to try them. */
  upstreams: Upstream[]
}

export interface Router {
  readonly upstreams: readonly Upstream[]
  /** Throws ModelNotFoundError (404) when no upstream serves the model. */
  route (model: string): Route
  close (): Promise<void>
}

/**
 * Model routing (SPEC §9): aliases first, then every upstream that lists the
 * model (or `*`). Several candidates are rotated round-robin per model, so
 * load spreads while the order stays deterministic for retries.
 */
export function createRouter (config: RelayConfig): Router {
  const upstreams = config.upstreams.map((u) => u.kind === 'demo'
    ? createDemoUpstream(u)
    : createHttpUpstream(u, KINDS[u.kind] as UpstreamKind, config))
  const turn = new Map<string, number>()

  return {
    upstreams,
    route (model) {
      const target = config.aliases[model] ?? model
      const serving = upstreams.filter((u) => u.config.models.includes(target))
      const candidates = serving.length > 0 ? serving : upstreams.filter((u) => u.config.models.includes('*'))
      if (candidates.length === 0) throw ModelNotFoundError({ param: 'model' }, model)
      const start = turn.get(target) ?? 0
      turn.set(target, (start + 1) % candidates.length)
      const ordered = candidates.length === 1 ? candidates : [...candidates.slice(start % candidates.length), ...candidates.slice(0, start % candidates.length)]
      return { publicModel: model, upstreamModel: target, aliased: target !== model, upstreams: ordered }
    },
    async close () {
      await Promise.all(upstreams.map((u) => u.close()))
    },
  }
}
