#!/usr/bin/env node
// Bench target "floor-fastify": floor-node's forwarding as a Fastify 5 route,
// the body parsed by Fastify's JSON parser and re-serialised with
// JSON.stringify (as the relay does), then reply.hijack() and the same
// dispatch/write loop on reply.raw. Beside floor-node it shows what Fastify's
// request path and the body's JSON round trip cost; beside the relay, what the
// relay adds on top of a framework route.
//
//   PORT=8080 UPSTREAM=http://127.0.0.1:9000 node bench/targets/floor-fastify.mjs
import Fastify from 'fastify'
import { createFloor } from './floor-dispatch.mjs'

const { PORT, UPSTREAM } = process.env
if (!PORT || !UPSTREAM) { console.error('PORT and UPSTREAM (http://127.0.0.1:<port>) are required'); process.exit(2) }

const floor = createFloor(UPSTREAM)
// requestTimeout 0 as the relay's server.ts: streams may run as long as they like.
const app = Fastify({ logger: false, requestTimeout: 0 })

app.post('/v1/chat/completions', (request, reply) => {
  reply.hijack()
  floor.forward('/v1/chat/completions', request.headers.accept, JSON.stringify(request.body), reply.raw)
})
app.get('/healthz', (_request, reply) => { reply.send('ok') })

// As the relay's CLI: a backlog that thousands of connections opening within a second do not overflow.
await app.listen({ port: Number(PORT), host: '127.0.0.1', backlog: 4096 })
// No SIGTERM handler: the bench stops a target after its load, with nothing to flush.
