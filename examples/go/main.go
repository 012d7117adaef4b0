// gcapp: a Go service that behaves like the one in oomguard's field report,
// and handles oomguard's "free memory now" request the way a Go program
// should.
//
// It keeps a cache of 4 KiB blocks. Each second it trims the cache to
// -keep percent of -target (the excess becomes garbage) and refills it to
// the whole target during the next second, in nine 100 ms steps. Go's
// collector lets the heap grow to about twice the live data (GOGC=100)
// before it collects, so with a target of about two thirds of the
// container's limit (the default, 170M, for --memory 256m) the process
// reaches the limit before Go collects on its own. With the OOM killer
// disabled the container then freezes, about 5 s after start.
//
// Signals:
//
//	SIGUSR1  debug.FreeOSMemory(): collect now and return the free pages to
//	         the kernel at once (without it, Go keeps them for reuse and
//	         returns them slowly, so the cgroup's usage would not drop)
//	SIGTERM  exit cleanly with status -term-exit (SIGINT too)
//
// It prints one line a second on stdout, and one line per request served.
// Standard library only: it builds with Debian's golang-go, offline, and
// with CGO_ENABLED=0 the binary is static and runs in any image.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const blockBytes = 4096

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// parseSize reads "180M", "180MiB", "1G", "4096" (binary units).
func parseSize(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

type cache struct {
	blocks [][]byte
	serial byte
}

// fill grows the cache to n blocks, writing to each block so the kernel
// charges its page to the cgroup (Go does not touch fresh zeroed memory).
func (c *cache) fill(n int) {
	for len(c.blocks) < n {
		b := make([]byte, blockBytes)
		c.serial++
		b[0] = c.serial
		b[blockBytes-1] = c.serial
		c.blocks = append(c.blocks, b)
	}
}

// trim drops the newest blocks down to n; they become garbage.
func (c *cache) trim(n int) {
	for i := n; i < len(c.blocks); i++ {
		c.blocks[i] = nil
	}
	if n < len(c.blocks) {
		c.blocks = c.blocks[:n]
	}
}

// held is what the Go runtime holds from the kernel for the heap: what it
// has mapped less what it has already given back.
func held(ms *runtime.MemStats) uint64 { return ms.HeapSys - ms.HeapReleased }

func freeOSMemory(start time.Time) {
	var before, after runtime.MemStats

	runtime.ReadMemStats(&before)
	t0 := time.Now()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	fmt.Printf("t=%.1fs gc request (SIGUSR1): debug.FreeOSMemory in %dms, heap held %.1fMiB -> %.1fMiB\n",
		time.Since(start).Seconds(), time.Since(t0).Milliseconds(), mib(held(&before)), mib(held(&after)))
}

func main() {
	targetFlag := flag.String("target", envOr("GCAPP_TARGET", "170M"), "cache size the app fills to each second (env GCAPP_TARGET)")
	keep := flag.Int("keep", 80, "percent of the target kept when the cache is trimmed each second")
	termExit := flag.Int("term-exit", 0, "exit status after SIGTERM or SIGINT")
	duration := flag.Duration("duration", 0, "exit 0 after this long (0: run until signalled)")
	flag.Parse()

	target, err := parseSize(*targetFlag)
	if err != nil || *keep < 1 || *keep > 100 {
		fmt.Fprintf(os.Stderr, "gcapp: %v (keep %d%%)\n", err, *keep)
		os.Exit(2)
	}
	full := int(target / blockBytes)
	kept := full * *keep / 100

	// Ask for the signals before the first allocation: oomguard sends the
	// gc request only to a process that catches it.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)

	start := time.Now()
	fmt.Printf("gcapp: pid %d, target %.1fMiB in 4KiB blocks, keeps %d%%, GOGC=%s\n",
		os.Getpid(), mib(target), *keep, envOr("GOGC", "100"))

	c := &cache{blocks: make([][]byte, 0, full)}
	c.fill(kept)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	step := (full - kept + 8) / 9
	var ms runtime.MemStats
	for n := 0; ; {
		select {
		case s := <-sigs:
			if s == syscall.SIGUSR1 {
				freeOSMemory(start)
				continue
			}
			fmt.Printf("t=%.1fs %v: exiting cleanly with status %d\n",
				time.Since(start).Seconds(), s, *termExit)
			os.Exit(*termExit)
		case <-tick.C:
		}
		// Nine ticks refill the cache; the tenth reports and trims it.
		n++
		if n%10 == 0 {
			runtime.ReadMemStats(&ms)
			fmt.Printf("t=%.0fs cache=%.1fMiB heap=%.1fMiB held=%.1fMiB gcs=%d\n",
				time.Since(start).Seconds(), mib(uint64(len(c.blocks))*blockBytes),
				mib(ms.HeapAlloc), mib(held(&ms)), ms.NumGC)
			c.trim(kept)
			if *duration > 0 && time.Since(start) >= *duration {
				return
			}
			continue
		}
		c.fill(min(len(c.blocks)+step, full))
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
