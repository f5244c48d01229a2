import type { OutgoingHttpHeaders } from 'node:http'

/**
 * The anti-buffering headers of SPEC §5: no-transform keeps compression
 * middleware and proxies from holding frames back; X-Accel-Buffering turns
 * off nginx's response buffering. No Content-Length: the body is chunked.
 */
export function streamHeaders (contentType: string, base: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...base }
  delete headers['content-length']
  headers['content-type'] = contentType
  headers['cache-control'] = 'no-cache, no-transform'
  headers['x-accel-buffering'] = 'no'
  return headers
}
