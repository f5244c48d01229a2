// /proc accounting for the bench (Linux only). Numbers are read by PID from
// outside the process, so the relay needs no instrumentation of its own.
import { readFileSync, readdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100

// Fields of /proc/PID/stat after "(comm)": comm may hold spaces or ')', so cut at the last ')'.
function statFields (pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return s.slice(s.lastIndexOf(')') + 2).split(' ') // [0] is field 3 (state)
}

/** Run time of live threads in ns from schedstat; 0 where the kernel does not keep it. */
function schedNs (pid) {
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) } catch { /* thread gone */ }
  }
  return ns
}

/**
 * Seconds the live threads of pids spent runnable but waiting for a CPU (schedstat's second
 * field; 0 where the kernel does not keep it). Beside the CPU time it tells a process that was
 * slow because it was starved (other work on the machine) from one that was busy.
 */
export function runDelaySeconds (pids) {
  let ns = 0
  for (const pid of pids) {
    let tids
    try { tids = readdirSync(`/proc/${pid}/task`) } catch { continue }
    for (const tid of tids) {
      try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) } catch { /* thread gone */ }
    }
  }
  return ns / 1e9
}

/**
 * CPU seconds used so far by pids (all threads). schedstat has ns resolution but
 * is all zeros on some kernels (this VM's included); utime+stime from
 * /proc/PID/stat (CLK_TCK = 10 ms ticks, dead threads included) is the fallback,
 * fine over windows of a second or more.
 */
export function cpuSeconds (pids) {
  return cpuTimes(pids).total
}

/** { total, user, sys } CPU seconds; user/sys from ticks (kernel time = syscalls, TCP, epoll). */
export function cpuTimes (pids) {
  let ns = 0; let user = 0; let sys = 0
  for (const pid of pids) {
    try {
      ns += schedNs(pid)
      const f = statFields(pid)
      user += Number(f[11]) // utime (field 14)
      sys += Number(f[12]) // stime (field 15)
    } catch { /* process gone */ }
  }
  return { total: ns > 0 ? ns / 1e9 : (user + sys) / CLK_TCK, user: user / CLK_TCK, sys: sys / CLK_TCK }
}

/**
 * CPU seconds split by thread, from each live thread's /proc/PID/task/TID/stat:
 * the main thread's user and kernel time (a Node process's event loop: JS,
 * syscalls, TCP) apart from every other thread's (V8's GC and compiler
 * threads, libuv's pool; nginx's processes are single-threaded, so all main).
 * Ticks of 10 ms: meaningful over windows of a second or more.
 */
export function threadTimes (pids) {
  let mainUser = 0; let mainSys = 0; let other = 0
  for (const pid of pids) {
    let tids
    try { tids = readdirSync(`/proc/${pid}/task`) } catch { continue }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
        const user = Number(f[11]); const sys = Number(f[12])
        if (Number(tid) === pid) { mainUser += user; mainSys += sys } else other += user + sys
      } catch { /* thread gone */ }
    }
  }
  return { mainUser: mainUser / CLK_TCK, mainSys: mainSys / CLK_TCK, other: other / CLK_TCK }
}

/** Sum of VmRSS over pids, in KiB. */
export function rssKb (pids) {
  let kb = 0
  for (const pid of pids) {
    try { kb += Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0) } catch { /* gone */ }
  }
  return kb
}

/** pid and its descendants (nginx workers; a relay that forks), by a scan of /proc. */
export function processTree (pid) {
  const parent = new Map()
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try { parent.set(Number(d), Number(statFields(d)[1])) } catch { /* raced */ }
  }
  const out = [pid]
  for (let i = 0; i < out.length; i++) for (const [p, pp] of parent) if (pp === out[i]) out.push(p)
  return out
}

/** Soft and hard RLIMIT_NOFILE of this process. */
export function nofile () {
  const m = readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+(\S+)\s+(\S+)/m)
  const n = (v) => (v === 'unlimited' ? Infinity : Number(v))
  return { soft: n(m[1]), hard: n(m[2]) }
}
