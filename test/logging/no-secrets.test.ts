import t from 'tap'
import { startUpstream, chatChunk, SSE_HEADERS, closedPort } from '../helpers/upstream.js'
import { startRelay, chatBody, readAll } from '../helpers/relay.js'

// SPEC §8, §10: no log line and no error ever holds a secret: not the client
// tokens, not the upstream key, not a cookie, at any log level, whether the
// request succeeds or fails, even when an upstream echoes its key back.

const SECRETS = {
  client: 'sk-client-S3CR3T-one',
  wrong: 'sk-wrong-S3CR3T-two',
  upstream: 'sk-upstream-S3CR3T-three',
  cookie: 'COOKIE-S3CR3T-four',
  xApiKey: 'XAPIKEY-S3CR3T-five',
}

for (const level of ['info', 'debug', 'trace'] as const) {
  t.test(`LOG_LEVEL ${level}: no secret in the log, nor in any answer`, async (t) => {
    const up = await startUpstream(t, async (_req, res, received) => {
      const mode = received.json?.messages?.[0]?.content
      if (received.url === '/v1/models') {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRETS.upstream}` } }))
      } else if (mode === 'echo-4xx') {
        // Some servers echo the key they were given; the relay must not pass it on.
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRETS.upstream}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }))
      } else if (mode === 'echo-5xx') {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(`Internal Server Error: upstream rejected Bearer ${SECRETS.upstream}`)
      } else if (mode === 'echo-stream') {
        res.writeHead(200, SSE_HEADERS)
        res.write(`data: ${chatChunk('a')}\n\n`)
        res.end(`data: ${JSON.stringify({ error: { message: `key ${SECRETS.upstream} revoked`, type: 'auth', code: 'revoked' } })}\n\n`)
      } else {
        res.writeHead(200, SSE_HEADERS)
        res.end(`data: ${chatChunk('ok', { finish: 'stop' })}\n\ndata: [DONE]\n\n`)
      }
    })
    const relay = await startRelay(t, {
      logLevel: level,
      upstreams: [
        { name: 'up', baseUrl: up.baseUrl, apiKey: SECRETS.upstream, models: ['*'] },
        { name: 'gone', baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, apiKey: SECRETS.upstream, models: ['dead'] },
      ],
      keys: [{ name: 'web', key: SECRETS.client }],
    })
    const answers: string[] = []
    const ask = async (content: string, token = SECRETS.client, model = 'm') => {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, cookie: `session=${SECRETS.cookie}`, 'x-api-key': SECRETS.xApiKey },
        body: chatBody(model, { stream: true, messages: [{ role: 'user', content }] }),
      })
      const { text } = await readAll(res)
      answers.push(text)
      return { status: res.status, text }
    }
    t.equal((await ask('hello')).status, 200)
    t.equal((await ask('hello', SECRETS.wrong)).status, 401)
    t.equal((await ask('hello', SECRETS.client, 'dead')).status, 502)
    const echo4 = await ask('echo-4xx')
    t.equal(echo4.status, 401)
    t.equal(JSON.parse(echo4.text).error.message, 'Incorrect API key provided: [redacted].', 'the echoed key is cut from the message')
    const echo5 = await ask('echo-5xx')
    t.equal(echo5.status, 502)
    t.equal(JSON.parse(echo5.text).error.message, 'Upstream "up" answered HTTP 500: Internal Server Error: upstream rejected Bearer [redacted]')
    const echoStream = await ask('echo-stream')
    t.equal(echoStream.status, 200)
    t.match(echoStream.text, /\ndata: \{"error":\{"message":"key \[redacted\] revoked","type":"auth",/, 'the error frame keeps the message without the key')
    const models = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${SECRETS.client}` } })
    answers.push(await models.text())
    const bad = await fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.client}` }, body: `{"model": "${SECRETS.client}"` })
    answers.push(await bad.text())

    t.equal(relay.summaries().length, 8, 'every request logged')
    const log = relay.logText()
    for (const [name, secret] of Object.entries(SECRETS)) {
      t.notOk(log.includes(secret), `the ${name} secret is not in the log`)
      t.notOk(answers.some((a) => a.includes(secret)), `the ${name} secret is in no answer`)
    }
    // The log still says who and what, by name.
    t.strictSame(relay.summaries().map((l) => l.keyName), ['web', undefined, 'web', 'web', 'web', 'web', 'web', undefined])
  })
}
