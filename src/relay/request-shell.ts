import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ClientIdentity } from '../auth/keyring.js'
import type { RelayContext } from '../context.js'
import { UpstreamTimeoutError } from '../errors.js'

/**
 * What every request bound for an upstream shares, whatever it asks (a
 * forwarded endpoint, a stored response, another POST path): ONE controller
 * that the client going away, the total timeout and a mid-stream failure
 * all end the upstream call through; admission (rate, stream slot); and, on
 * failure, the client gone (nobody to answer) or the error with its retry
 * hints for the error handler. `run` gets the controller; a stream slot is
 * held until the response closes.
 */
export async function runUpstreamRequest (ctx: RelayContext, request: FastifyRequest, reply: FastifyReply, admission: { identity: ClientIdentity, stream: boolean }, run: (controller: AbortController) => Promise<void>): Promise<void> {
  const state = request.relayState
  const controller = new AbortController()
  const res = reply.raw
  const totalMs = ctx.config.timeouts.totalMs
  const total = setTimeout(() => controller.abort(UpstreamTimeoutError({}, `Request took longer than the total timeout of ${totalMs} ms`)), totalMs)
  let releaseSlot: (() => void) | undefined
  // The request's one 'close' listener (a response closes once: no once() wrapper needed): the
  // timer, the stream slot and the upstream call all end here, whatever ended the response.
  res.on('close', () => {
    clearTimeout(total)
    releaseSlot?.()
    if (!res.writableFinished) {
      state.clientGone = true
      state.outcome ??= 'client_aborted'
      controller.abort(new Error('client disconnected'))
    }
  })
  const admitted = ctx.limits.admit({ identity: admission.identity, request, reply, stream: admission.stream })
  const slot = admitted instanceof Promise ? await admitted : admitted
  // The slot store may be async: a client that left meanwhile has had its 'close' already.
  if (res.closed) slot?.()
  else releaseSlot = slot

  try {
    await run(controller)
  } catch (err) {
    // The client is gone: there is nobody to answer; tell Fastify the reply is handled.
    if (state.clientGone) { reply.hijack(); return }
    const headers = (err as { headers?: Record<string, string> }).headers
    if (headers) reply.headers(headers)
    throw err
  }
}
