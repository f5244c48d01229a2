#!/usr/bin/env node
// Bench target "floor-node": the least a Node proxy on the relay's stack does
// for the same work. node:http in, one undici 7 Agent out (keep-alive pool, no
// connection cap, as the relay's), `dispatch()` with a handler that writes the
// upstream's status, headers and each body chunk straight to the client. No
// framework, no auth, no JSON, no SSE parsing: what is left is what Node and
// undici cost anyway, so the relay's figures minus these are what it adds.
//
//   PORT=8080 UPSTREAM=http://127.0.0.1:9000 node bench/targets/floor-node.mjs
//
// POST /v1/chat/completions: the body read whole and forwarded as is; the
// answer (SSE or JSON) forwarded chunk by chunk. GET /healthz: 200.
import http from 'node:http'
import { createFloor } from './floor-dispatch.mjs'

const { PORT, UPSTREAM } = process.env
if (!PORT || !UPSTREAM) { console.error('PORT and UPSTREAM (http://127.0.0.1:<port>) are required'); process.exit(2) }

const floor = createFloor(UPSTREAM)
const PATH = '/v1/chat/completions'

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === PATH) {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => floor.forward(PATH, req.headers.accept, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), res))
    return
  }
  if (req.method === 'GET' && req.url === '/healthz') { res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'); return }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
})
// As the relay's CLI and Fastify config: streams may run as long as they like,
// and a backlog that thousands of connections opening within a second do not overflow.
server.requestTimeout = 0
server.keepAliveTimeout = 72_000 // Fastify's default, so both floors and the relay keep idle clients alike
server.listen({ port: Number(PORT), host: '127.0.0.1', backlog: 4096 })
// No SIGTERM handler: the bench stops a target after its load, with nothing to flush.
