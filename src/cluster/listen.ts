/**
 * How a worker (RELAY_WORKERS > 1) listens on the relay's port.
 *
 * With a fixed port on Linux each worker opens its own listening socket on it
 * with SO_REUSEPORT (`reusePort`, and `exclusive` so that node:cluster does not
 * route the listen through the primary), and the kernel spreads new
 * connections over the workers: the primary never touches a connection.
 * node:cluster's default instead has the primary accept every connection and
 * hand it to a worker over IPC, which is what a burst of new chats pays for.
 * Measured with the bench's idle burst (3,000 streams opened within 1 s, two
 * workers on the 2-vCPU VM, bench/README.md): TTFB p50 522 ms through the
 * primary, 154 ms with SO_REUSEPORT (one process: 294–303 ms).
 *
 * Port 0 ("any free port", as tests ask) cannot be shared that way: each worker
 * would get a port of its own. It keeps cluster's shared handle, as do other
 * platforms, where Node may not offer `reusePort`.
 */
export function workerListenOptions (port: number, platform: NodeJS.Platform = process.platform): { exclusive?: true, reusePort?: true } {
  return port !== 0 && platform === 'linux' ? { exclusive: true, reusePort: true } : {}
}
