# oomguard: one Makefile, no generated build system.
# make            build/oomguard
# make test       every test this machine can run (installs what they need)
# make demo       the field scenario on this host
# See README.md for the other targets.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=
BUILD      ?= build
SYSTEMD    ?= 1

CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS       := libevent inih jansson
# libcurl is loaded at run time by docker.c (dlopen): its headers only.
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
ifeq ($(SYSTEMD),1)
PKGS       += libsystemd
endif

WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wcast-qual -Wformat=2
# Warnings are errors in CI (CI=true) or when WERROR=1.
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARNINGS += -Werror
endif
HARDENING := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS   ?= -O2 -g
ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(HARDENING) $(CFLAGS) \
              -DOOMGUARD_VERSION='"$(VERSION)"' -DOOMGUARD_SYSTEMD=$(SYSTEMD) \
              $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(CURL_CFLAGS) -MMD -MP
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS        = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -ldl

SRCS := $(wildcard src/*.c)
OBJS := $(SRCS:src/%.c=$(BUILD)/%.o)

# Each unit suite links only the modules it tests.
UNIT_SUITES := check_units check_config check_cgroup check_memcg check_psi check_policy check_episode check_schedule check_supervise check_action check_unit check_service check_log check_rescue check_inputs check_knob check_hints check_stats check_guard check_expo check_listen check_metrics check_hook check_status check_dockerjson check_labels check_docker check_cgscan
check_units_MODS  := units
check_config_MODS := config units log listen
check_cgroup_MODS := cgroup file
check_memcg_MODS  := memcg file
check_psi_MODS    := psi file
check_policy_MODS := policy
check_episode_MODS := episode
check_action_MODS := action file
check_supervise_MODS := supervise log
check_schedule_MODS := schedule policy
check_unit_MODS    := unit
check_service_MODS := service
check_log_MODS     := log
check_rescue_MODS  := rescue file units
check_inputs_MODS  := inputs units config log listen
check_knob_MODS    := knob inputs memctl memcg file units config log listen
check_hints_MODS   := hints config units log listen
check_stats_MODS   := stats
check_guard_MODS   := guard guard_sample guard_notify respond knob rescue action inputs policy \
                      schedule episode stats memcg memctl cgroup notify psi file units config log listen
check_expo_MODS    := expo stats
check_listen_MODS  := listen
check_metrics_MODS := metrics expo stats listen
check_hook_MODS    := hook config listen units log
check_status_MODS  := status metrics expo stats listen units
# Not a suite: the endpoint alone, for trying clients and scrapers on it.
metrics_serve_MODS := metrics expo stats listen
check_dockerjson_MODS := dockerjson
check_labels_MODS  := labels dockerjson config units log listen
check_docker_MODS  := docker dockerjson log
check_cgscan_MODS  := cgscan cgroup file
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
UNIT_BINS  := $(UNIT_SUITES:%=$(BUILD)/tests/%)

WORKLOADS := $(patsubst tests/workload/%.c,$(BUILD)/workload/%,$(wildcard tests/workload/*.c))

.PHONY: all deps test check-unit check-integration check-asan check-vm check-docker check-systemd static lint install demo clean bench bench-agent \
        fuzz check-fuzz check-faults soak

all: $(BUILD)/oomguard

$(BUILD)/oomguard: $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $(OBJS) $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/tests $(BUILD)/workload:
	mkdir -p $@

.SECONDEXPANSION:
$(BUILD)/tests/%: tests/unit/%.c $$(addprefix $(BUILD)/,$$(addsuffix .o,$$($$*_MODS))) | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -Itests/unit -o $@ $^ $(ALL_LDFLAGS) $(CHECK_LIBS) $(LIBS)

# The workloads are test tools, built the same way under every target (not
# instrumented by check-asan, whose memory overhead would change what they
# measure).
$(BUILD)/workload/%: tests/workload/%.c tests/workload/workload.h | $(BUILD)/workload
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -O2 -g -o $@ $<

# libFuzzer harnesses, one per parser fed from outside (tests/fuzz/), built
# with clang under ASan and UBSan; each links only the modules it fuzzes.
FUZZ_CC      ?= clang-14
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_HARNESSES := units config cgroup memcg psi action unit args endpoint dockerjson
fuzz_units_MODS  := units
fuzz_config_MODS := config units log listen
fuzz_cgroup_MODS := cgroup file
fuzz_memcg_MODS  := memcg file
fuzz_psi_MODS    := psi file
fuzz_action_MODS := action file
fuzz_unit_MODS   := unit
fuzz_endpoint_MODS := listen status expo stats units
fuzz_dockerjson_MODS := dockerjson labels config units log listen
# fuzz_args includes main.c itself, to reach its static argument parser.
fuzz_args_MODS   := $(filter-out main,$(SRCS:src/%.c=%))
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang's -Wformat=2 also flags log.c's vsnprintf of a va_list, which gcc
# leaves alone: not a fault of the parsers fuzzed here.
FUZZ_CFLAGS  = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Wno-format-nonliteral -O1 -g $(FUZZ_SAN) \
               -DOOMGUARD_VERSION='"$(VERSION)"' -DOOMGUARD_SYSTEMD=$(SYSTEMD) \
               $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_BINS   := $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_OBJS   := $(SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
.SECONDARY: $(FUZZ_OBJS)

$(FUZZ_BUILD)/obj:
	mkdir -p $@

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) Makefile | $(FUZZ_BUILD)/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h src/main.c \
		$$(addprefix $(FUZZ_BUILD)/obj/,$$(addsuffix .o,$$(fuzz_$$*_MODS)))
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Isrc -o $@ $< \
		$(addprefix $(FUZZ_BUILD)/obj/,$(addsuffix .o,$(fuzz_$*_MODS))) $(LIBS)

# make fuzz: each harness FUZZ_SECONDS (60 by default), its corpus kept in
# build/fuzz/corpus; make check-fuzz: each about 10 s, for make test.
fuzz: $(FUZZ_BINS)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

check-fuzz: $(FUZZ_BINS)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) 10 $(FUZZ_HARNESSES)

# Debian packages the build and the tests need; installed only when missing.
DEPS_PKGS := build-essential pkg-config libevent-dev libinih-dev libsystemd-dev check \
             clang-format cppcheck util-linux procps qemu-system-x86 busybox-static cpio \
             docker.io debootstrap gnuplot-nox golang-go nodejs default-jre-headless clang-14 libfuzzer-14-dev \
             clang-tools-14 \
             libjansson-dev prometheus libcurl4-openssl-dev python3-yaml
deps:
	@missing=; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; CK_DEFAULT_TIMEOUT=30 $$t; done

check-integration: $(BUILD)/oomguard $(WORKLOADS) $(BUILD)/tests/check_cgscan
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		CHECK_CGSCAN=$(abspath $(BUILD)/tests/check_cgscan) bash tests/integration/run.sh

# The fault matrix (tests/faults/, docs/testing.md): the real binary under
# each fault, with its expected outcome.
check-faults: $(BUILD)/oomguard $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		bash tests/faults/run.sh

# make static: build/oomguard-static, linked statically (glibc, libevent's
# core and its HTTP server for the metrics endpoint, inih, jansson) so that
# one file runs in any image, glibc, musl or distroless.
# libsystemd has no static library: the static build is always SYSTEMD=0.
# ld warns that libevent's unused resolver helpers would need glibc's NSS
# at run time; oomguard never resolves a name.
# The Docker Engine client (docker.c, libcurl) is left out: libcurl's
# static library pulls in TLS, LDAP and Kerberos, and the host agent it
# serves runs on the host, not in an image.
STATIC_PKGS := libevent_core libevent_extra inih jansson
STATIC_SRCS := $(filter-out src/docker.c,$(SRCS))
static: $(BUILD)/oomguard-static

$(BUILD)/oomguard-static: $(STATIC_SRCS) $(wildcard src/*.h) Makefile | $(BUILD)
	$(CC) -static-pie -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(HARDENING) $(CFLAGS) \
		-DOOMGUARD_VERSION='"$(VERSION)"' -DOOMGUARD_SYSTEMD=0 -DOOMGUARD_DOCKER=0 \
		$(shell $(PKG_CONFIG) --cflags $(STATIC_PKGS)) -o $@ $(STATIC_SRCS) \
		-Wl,-z,relro,-z,now $(LDFLAGS) $(shell $(PKG_CONFIG) --static --libs $(STATIC_PKGS))

# The image, the field scenario in a real Docker engine, the static binary
# in a busybox image, the sidecar form and the runtime examples
# (tests/docker/run.sh says what it installs, starts and builds).
check-docker: deps $(BUILD)/oomguard $(BUILD)/tests/dkclient
	OOMGUARD=$(abspath $(BUILD)/oomguard) DKCLIENT=$(abspath $(BUILD)/tests/dkclient) \
		bash tests/docker/run.sh

# The Engine client alone, one line per callback (tests/docker/test_client.sh).
$(BUILD)/tests/dkclient: tests/docker/dkclient.c $(BUILD)/docker.o $(BUILD)/dockerjson.o $(BUILD)/log.o | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

# The sidecar under a real systemd: PID 1 of a container made from a local
# Debian base, with every capability the host allows (tests/systemd/run.sh).
check-systemd: deps $(BUILD)/oomguard $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		bash tests/systemd/run.sh

# The cgroup v2 suite in a QEMU VM booting Debian's kernel (tests/vm/README).
check-vm: $(BUILD)/oomguard $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		bash tests/vm/check.sh

# Unit and integration tests again under AddressSanitizer and UBSan,
# stopping at the first error.
check-asan:
	$(MAKE) BUILD=build/asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' check-unit check-integration \
		ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

lint:
	clang-format --dry-run --Werror src/*.c src/*.h tests/unit/*.[ch] tests/workload/*.c \
		tests/fuzz/*.[ch] tests/docker/*.c
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr -Isrc --suppress=missingIncludeSystem src tests/unit \
		tests/workload tests/fuzz tests/docker
	rm -rf $(BUILD)/scan
	scan-build-14 --status-bugs -o $(BUILD)/scan/report $(MAKE) -s -j$$(nproc) BUILD=$(BUILD)/scan/build all

test: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) check-unit
	$(MAKE) check-fuzz
	$(MAKE) check-integration
	$(MAKE) check-faults
	$(MAKE) check-vm
	$(MAKE) check-docker
	$(MAKE) check-systemd
	$(MAKE) check-asan

demo: deps all $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		bash tests/demo.sh

# Figures, not assertions: see docs/benchmarks.md.
bench: deps all $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		bash tests/bench/bench.sh
	$(MAKE) bench-agent

# The host agent's cost with 1, 50 and 200 guarded cgroups (tests/bench/agent.sh).
bench-agent: all $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		bash tests/bench/agent.sh

# The soak (tests/soak/run.sh): oomguard guarding a churning app for
# SOAK_SECS (3600), a row of figures a minute and a PNG; not in make test.
soak: deps all $(WORKLOADS)
	OOMGUARD=$(abspath $(BUILD)/oomguard) WORKLOAD_DIR=$(abspath $(BUILD)/workload) \
		OUT=$(abspath $(BUILD)/soak) bash tests/soak/run.sh

install: $(BUILD)/oomguard
	install -D -m 0755 $(BUILD)/oomguard $(DESTDIR)$(SBINDIR)/oomguard
	install -D -m 0644 conf/oomguard.ini $(DESTDIR)$(SYSCONFDIR)/oomguard/oomguard.ini.example
	install -D -m 0644 docs/oomguard.8 $(DESTDIR)$(MANDIR)/man8/oomguard.8
	install -D -m 0644 docs/oomguard.ini.5 $(DESTDIR)$(MANDIR)/man5/oomguard.ini.5
	mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/oomguard|$(SBINDIR)/oomguard|' systemd/oomguard@.service \
		>$(DESTDIR)$(UNITDIR)/oomguard@.service
	sed 's|/usr/local/sbin/oomguard|$(SBINDIR)/oomguard|' systemd/oomguard-docker.service \
		>$(DESTDIR)$(UNITDIR)/oomguard-docker.service

clean:
	rm -rf build

# Flags live here: a change to them rebuilds everything.
$(OBJS): Makefile

-include $(OBJS:.o=.d)
