import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Test } from 'tap'

/**
 * A real listener that never completes a handshake: Python binds 127.0.0.1:0
 * with listen(0) and never accepts; its idle fillers occupy the accept queue,
 * so the kernel drops further SYNs and a connect() hangs until the caller's
 * own timeout. Node cannot do this itself (libuv always accepts).
 */
const SCRIPT = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(('127.0.0.1', 0))
s.listen(0)
port = s.getsockname()[1]
fillers = []
for _ in range(3):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    fillers.append(c)
print(port, flush=True)
sys.stdin.read()
`

/** Starts the black-hole listener (killed in teardown) and returns its port. */
export async function startBlackhole (t: Test): Promise<number> {
  const child = spawn('python3', ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill() })
  const [line] = await once(child.stdout, 'data', { signal: AbortSignal.timeout(5000) }) as [Buffer]
  return Number(line.toString().trim())
}
