// A Java service under oomguard: frees memory when oomguard asks.
//
// It keeps a cache of 4 KiB arrays in the Java heap and replaces a fifth
// of it every second, so the heap fills with garbage between collections.
//
// On oomguard's request, SIGUSR1, it runs a full collection: System.gc().
// HotSpot on JDK 9 and later leaves SIGUSR1 to applications (without a
// handler it terminates the JVM, so oomguard's require_handler waits for
// this one); SIGUSR2 must never be used, the JVM suspends and resumes its
// threads with it. sun.misc.Signal (module jdk.unsupported) runs the
// handler on a Java thread of its own, not in the raw signal context, so
// it may do real work. After a full collection the JVM gives heap back to
// the kernel as its sizing allows (-Xms below -Xmx).
//
// The heap limit comes from oomguard: JAVA_TOOL_OPTIONS=-Xmx... at each
// start ([runtime] hints), printed on the first line.
//
// Environment: JAVAAPP_TARGET_MIB (cache size, default 48), JAVAAPP_SECONDS
// (exit 0 after that many seconds; 0 runs until SIGTERM).
import sun.misc.Signal;

public class App {
	static final int ENTRY_BYTES = 4096;
	static final long STARTED = System.nanoTime();
	static final Runtime RT = Runtime.getRuntime();

	static String mib(long bytes) {
		return String.format("%.1f", bytes / 1048576.0);
	}

	static synchronized void log(String msg) {
		System.out.printf("t=%.1fs %s%n", (System.nanoTime() - STARTED) / 1e9, msg);
		System.out.flush();
	}

	static long used() {
		return RT.totalMemory() - RT.freeMemory();
	}

	static long envLong(String name, long def) {
		String v = System.getenv(name);
		return v == null || v.isEmpty() ? def : Long.parseLong(v);
	}

	public static void main(String[] args) throws InterruptedException {
		// Handlers first: oomguard sends the request only once the JVM
		// catches the signal.
		Signal.handle(new Signal("USR1"), sig -> {
			long before = used(), committed = RT.totalMemory();
			long t0 = System.nanoTime();
			System.gc();
			long after = used();
			log("gc request (SIGUSR1): System.gc() freed " + mib(before - after) + "MiB in "
			    + (System.nanoTime() - t0) / 1000000 + "ms (heap used " + mib(before) + "MiB -> "
			    + mib(after) + "MiB, committed " + mib(committed) + "MiB -> "
			    + mib(RT.totalMemory()) + "MiB)");
		});
		for (String name : new String[] { "TERM", "INT" }) {
			Signal.handle(new Signal(name), sig -> {
				log("SIG" + sig.getName() + ": exiting cleanly");
				System.exit(0);
			});
		}

		long target = envLong("JAVAAPP_TARGET_MIB", 48) << 20;
		long seconds = envLong("JAVAAPP_SECONDS", 0);
		int n = (int) (target / ENTRY_BYTES);
		byte[][] cache = new byte[n][];
		for (int i = 0; i < n; i++)
			cache[i] = new byte[ENTRY_BYTES];
		log("pid " + ProcessHandle.current().pid() + ", cache " + mib(target) + "MiB in " + n
		    + " entries, max heap " + mib(RT.maxMemory()) + "MiB (JAVA_TOOL_OPTIONS="
		    + System.getenv("JAVA_TOOL_OPTIONS") + ")");

		long key = 0;
		for (long s = 1; seconds == 0 || s <= seconds; s++) {
			Thread.sleep(1000);
			for (int i = 0; i < n / 5; i++, key++) {
				byte[] b = new byte[ENTRY_BYTES];
				b[0] = (byte) key;
				cache[(int) (key % n)] = b;
			}
			log("cache " + n + " entries, heap used " + mib(used()) + "MiB, committed "
			    + mib(RT.totalMemory()) + "MiB of max " + mib(RT.maxMemory()) + "MiB");
		}
	}
}
