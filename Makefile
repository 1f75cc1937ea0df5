# keel — the two commands are `make run` and `make test`; everything else is here too.
SHELL := /bin/bash
JDK := $(shell scripts/find-jdk.sh)
ifeq ($(JDK),)
$(error keel needs a JDK >= 22 (see the line above); set JAVA_HOME to one)
endif
export JAVA_HOME := $(JDK)
MVN := ./mvnw -B --no-transfer-progress
GEN_DIR := ffm-bindings/src/main/java/dev/keel/ffm/gen
SOURCES := $(shell find . -path ./bench/target -prune -o \( -name '*.java' -o -name pom.xml -o -name '*.c' \) -print 2>/dev/null | grep -v '/target/')
PORT ?= 8080
ROOT ?= sample
FUZZ_TIME ?= 600

.PHONY: all build run test stress soak fuzz gen bench bench-echo bench-echo-matrix bench-serve bench-proxy bench-load bench-startup bench-tls bench-udp clean jdk \
  artifacts javadoc check-reproducible consumer-test dist dist-test

all: build

jdk:
	@echo "keel: using JDK $(JDK)"

build: bin/keel

bin/keel: $(SOURCES) scripts/keel.in | jdk
	$(MVN) -DskipTests package
	@mkdir -p bin
	@sed -e 's|@JAVA_HOME@|$(JDK)|' scripts/keel.in > bin/keel && chmod +x bin/keel
	@echo "keel: built bin/keel"

run: bin/keel
	bin/keel serve --root $(ROOT) --port $(PORT)

# Every module's tests on the real kernel (verify), then what a user installs: the consumer
# project through keel-bom, the self-contained tarball and .deb, two builds byte-identical.
test: | jdk
	$(MVN) verify
	@mkdir -p bin
	@sed -e 's|@JAVA_HOME@|$(JDK)|' scripts/keel.in > bin/keel && chmod +x bin/keel
	$(MAKE) --no-print-directory javadoc consumer-test dist-test check-reproducible

# The hostile-client and fault scenarios at full size (make test runs them small): ~10 min.
# ServeStressTest: 1,000,000 mixed requests against keel serve under ulimit -n 256, on epoll and io_uring.
STRESS_TESTS := SlowlorisTest,PipelineFloodTest,MalformedRequestTest,SendFaultTest,PoolExhaustionTest,EmfileTest,TransportSelectionTest,HostileClientsTest,ServeStressTest
stress: | jdk
	$(MVN) -pl io-core,zerocopy,cli -am test -Dkeel.stress=true -Dcheckstyle.skip \
	  -Dsurefire.failIfNoSpecifiedTests=false -Dtest='$(STRESS_TESTS)'

# keel serve and keel echo under mixed load, every byte checked (SOAK_TIME seconds, default 600).
SOAK_TIME ?= 600
soak: bin/keel
	SOAK_TIME=$(SOAK_TIME) bench/soak.sh

# Each Jazzer fuzz test for FUZZ_TIME seconds (default 600), one after the other (`make test`
# gives them 6 s each, two at a time). A finding fails the run and is saved as crash-* beside the
# test's corpus, src/test/resources/.../<Test>Inputs/<method>/, where every later run replays it.
fuzz: | jdk
	@mkdir -p target
	set -o pipefail; $(MVN) -pl affinity,zerocopy -am test -Dtest='*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false \
	  -Dkeel.fuzz.time=$(FUZZ_TIME)s -Dkeel.fuzz.forks=1 -Dkeel.fuzz.forkTimeout=$$(( $(FUZZ_TIME) + 300 )) \
	  2>&1 | tee target/fuzz.log
	@grep -E '^\[INFO\] Running dev|^Done [0-9]+ runs' target/fuzz.log | sed -e 's/^\[INFO\] Running /keel: fuzzed /'

gen: | jdk
	@mkdir -p $(GEN_DIR)
	$(MAKE) -C native build/keelgen
	@for kind in constants:LinuxConstants layouts:LinuxLayouts errno:Errno openssl:OpenSslConstants; do \
	  native/build/keelgen $${kind%%:*} > $(GEN_DIR)/$${kind##*:}.java || exit 1; \
	done
	@echo "keel: regenerated $(GEN_DIR)"

bench: bin/keel
	bench/run.sh

# The echo benchmark against C epoll, Netty and JDK NIO (~10-15 min; QUICK=1 for ~2-3 min).
bench-echo: bin/keel
	bench/echo-bench.sh

# The echo matrix: 10..19,000 connections x 64 B..64 KiB, keel beside C and Netty epoll (~25 min; QUICK=1 for ~9 min).
bench-echo-matrix: bin/keel
	MATRIX=1 bench/echo-bench.sh

# keel load beside native/echo/echo_load against the C epoll echo server (~2 min; QUICK=1 for ~20 s).
bench-load: bin/keel
	bench/load-bench.sh

# keel udp-echo (epoll, io_uring) beside a C recvmmsg/sendmmsg echo and Netty's epoll
# DatagramChannel, 64 B and 1,200 B datagrams (~3 min; QUICK=1 for ~40 s).
bench-udp: bin/keel
	bench/udp-bench.sh

# keel serve beside nginx and Netty on static files (~15 min; QUICK=1 for ~4 min).
bench-serve: bin/keel
	bench/serve-bench.sh

# keel proxy in front of the C echo server beside a direct connection (~4 min; QUICK=1 for ~1 min).
bench-proxy: bin/keel
	bench/proxy-bench.sh

# keel serve over TLS beside nginx over TLS (~2 min).
bench-tls: bin/keel
	bench/tls-bench.sh

# keel serve's first seconds with and without the distribution's AOT cache (~2 min).
bench-startup: | jdk
	bench/startup-bench.sh

# What a Maven user gets: jars, sources and Javadoc jars of every library module and keel-bom,
# installed in ~/.m2 (the release profile adds the Javadoc jars; doclint warnings fail it).
artifacts: | jdk
	$(MVN) -Prelease -DskipTests install
	scripts/check-javadoc.sh

# The Javadoc checks alone, from the sources (~1 min): doclint clean everywhere, and every
# exported public type and member commented (scripts/check-javadoc.sh says how).
javadoc: | jdk
	scripts/check-javadoc.sh

# Two builds of this tree, byte-identical jars (~3 min; scripts/check-reproducible.sh).
check-reproducible: | jdk
	scripts/check-reproducible.sh

# A user's project (keel-bom/src/test/resources/consumer) builds against the installed artifacts
# through keel-bom and runs an echo and a file server (~1-2 min with the install).
consumer-test: | jdk
	scripts/consumer-test.sh

# keel that needs no JDK: a jlink runtime with the JDK modules keel uses, keel's modules and
# bin/keel, packed as target/dist/keel-<version>-linux-x86_64.tar.gz (scripts/make-dist.sh),
# and the same image as target/dist/keel_<version>_amd64.deb (scripts/make-deb.sh).
dist: | jdk
	$(MVN) -q -DskipTests package
	scripts/make-dist.sh
	scripts/make-deb.sh

# The tarball as a user gets it: unpacked in a temporary directory, run with PATH=/usr/bin:/bin
# and no JAVA_HOME (--version, cpus --json, serve + curl, SIGTERM; scripts/dist-test.sh), and
# the .deb's fields and contents (scripts/deb-test.sh). Part of make test (building the image
# takes a minute or two, the tests themselves ~15 s).
dist-test: dist
	scripts/dist-test.sh target/dist/keel-*-linux-x86_64.tar.gz
	scripts/deb-test.sh target/dist/keel_*_amd64.deb

clean:
	$(MVN) -q clean
	$(MAKE) -C native clean
	rm -rf bin */.cifuzz-corpus
