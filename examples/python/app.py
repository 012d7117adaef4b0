"""A Python service under oomguard: frees memory when oomguard asks.

It keeps a cache of entries, each a small cycle of objects (an entry and
its index record point at each other, as ORM objects and their sessions
do) holding a 4 KiB payload. Each second it replaces a fifth of the cache.
Reference counting cannot free a cycle; the cyclic collector frees the old
entries only at its next full collection, and glibc keeps the freed
payloads in its heap for reuse, so the process's memory drifts up.

On oomguard's request (SIGUSR1, its default) the handler runs
gc.collect() (every generation, cycles included) and then glibc's
malloc_trim(0), which gives the free pages inside the heap back to the
kernel. Python runs signal handlers in the main thread between bytecodes,
not in the raw signal context, so the handler may do real work.

Without a handler SIGUSR1 would terminate Python: install it before the
service allocates (oomguard sends the request only to a process that
catches the signal).

Environment: PYAPP_TARGET_MIB (cache size, default 64), PYAPP_SECONDS
(exit 0 after that many seconds; 0 runs until SIGTERM).
"""

import ctypes
import ctypes.util
import gc
import os
import signal
import sys
import time

PAYLOAD_BYTES = 4096


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load_malloc_trim():
    """glibc's malloc_trim, or None on a libc without it (musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


malloc_trim = load_malloc_trim()
started = time.monotonic()


def log(msg):
    print(f"t={time.monotonic() - started:.1f}s {msg}", flush=True)


def on_gc_request(signum, frame):
    before = rss_mib()
    found = gc.collect()
    trimmed = malloc_trim(0) if malloc_trim else "unavailable"
    log(
        f"gc request ({signal.Signals(signum).name}): gc.collect() freed {found} objects, "
        f"malloc_trim(0) -> {trimmed}, rss {before:.1f}MiB -> {rss_mib():.1f}MiB"
    )


def on_term(signum, frame):
    log(f"{signal.Signals(signum).name}: exiting cleanly")
    sys.exit(0)


class Entry:
    def __init__(self, key):
        self.key = key
        # Written byte by byte, so the pages are really touched (charged).
        self.payload = (b"%08d" % key) * (PAYLOAD_BYTES // 8)
        self.index = {"entry": self}  # the cycle


def main():
    signal.signal(signal.SIGUSR1, on_gc_request)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    target = int(os.environ.get("PYAPP_TARGET_MIB", "64")) << 20
    seconds = float(os.environ.get("PYAPP_SECONDS", "0"))
    n = target // PAYLOAD_BYTES
    log(f"pid {os.getpid()}, cache {target >> 20}MiB in {n} entries")
    cache = [Entry(i) for i in range(n)]
    key = n
    while seconds == 0 or time.monotonic() - started < seconds:
        time.sleep(1)
        for _ in range(n // 5):
            cache[key % n] = Entry(key)
            key += 1
        log(f"cache {n} entries, rss {rss_mib():.1f}MiB, gc counts {gc.get_count()}")


if __name__ == "__main__":
    main()
