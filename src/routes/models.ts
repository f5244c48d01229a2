import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authenticate } from '../auth/authenticate.js'
import { modelAllowed } from '../auth/keyring.js'
import type { RelayContext } from '../context.js'
import { ModelNotFoundError } from '../errors.js'
import type { ModelEntry } from '../upstream/kinds/types.js'
import type { Upstream } from '../upstream/types.js'

/** How long an upstream's own model list is reused before it is asked again. */
const UPSTREAM_MODELS_TTL_MS = 30_000

/**
 * `GET /v1/models` and `GET /v1/models/:model` (SPEC §4): OpenAI's list shape with the models of every
 * upstream the caller may use, plus the aliases that lead to them. An
 * upstream that serves `*` is asked for its own list (cached briefly); one
 * that does not answer is left out rather than failing the whole list.
 */
export function modelsRoutes (app: FastifyInstance, ctx: RelayContext): void {
  const cache = new Map<string, { at: number, entries: ModelEntry[] }>()

  async function modelsOf (upstream: Upstream, signal: AbortSignal): Promise<ModelEntry[]> {
    const listed = upstream.config.models.filter((m) => m !== '*')
    if (upstream.config.kind !== 'demo' && !upstream.config.models.includes('*')) {
      return listed.map((id) => ({ id, owned_by: upstream.name, created: 0 }))
    }
    const hit = cache.get(upstream.name)
    if (hit && performance.now() - hit.at < UPSTREAM_MODELS_TTL_MS) return hit.entries
    try {
      const entries = await upstream.listModels(signal)
      cache.set(upstream.name, { at: performance.now(), entries })
      return entries
    } catch (err) {
      app.log.warn({ upstream: upstream.name, err: (err as Error).message }, 'could not list the models of an upstream')
      return listed.map((id) => ({ id, owned_by: upstream.name, created: 0 }))
    }
  }

  /** The models this caller may see, as OpenAI's model objects: the one rule both routes below follow. */
  async function visibleModels (request: FastifyRequest) {
    const identity = authenticate(request, ctx.keyring)
    request.relayState.keyName = identity.name
    const controller = new AbortController()
    request.raw.once('close', () => controller.abort())
    const lists = await Promise.all(ctx.router.upstreams.map((u) => modelsOf(u, controller.signal)))
    const byId = new Map<string, ModelEntry>()
    for (const entry of lists.flat()) if (!byId.has(entry.id)) byId.set(entry.id, entry)
    for (const [alias, target] of Object.entries(ctx.config.aliases)) {
      const real = byId.get(target)
      if (real && !byId.has(alias)) byId.set(alias, { ...real, id: alias })
    }
    return [...byId.values()]
      .filter((m) => modelAllowed(identity.models, m.id))
      .map((m) => ({ id: m.id, object: 'model', created: m.created, owned_by: m.owned_by }))
  }

  app.get('/v1/models', async (request) => ({ object: 'list', data: await visibleModels(request) }))

  // A wildcard, not `:model`: model ids hold slashes (`Qwen/Qwen2.5-7B-Instruct`), which the SDKs send encoded or not.
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) => {
    const id = request.params['*']
    const model = (await visibleModels(request)).find((m) => m.id === id)
    // A model the key may not use is not there for it, as in the list.
    if (model === undefined) throw ModelNotFoundError({ param: 'model' }, id)
    return model
  })
}
