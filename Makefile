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

.PHONY: all build run test gen bench bench-echo bench-serve bench-proxy clean jdk

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

test: | jdk
	$(MVN) verify
	@mkdir -p bin
	@sed -e 's|@JAVA_HOME@|$(JDK)|' scripts/keel.in > bin/keel && chmod +x bin/keel

gen: | jdk
	@mkdir -p $(GEN_DIR)
	$(MAKE) -C native build/keelgen
	@for kind in constants:LinuxConstants layouts:LinuxLayouts errno:Errno; do \
	  native/build/keelgen $${kind%%:*} > $(GEN_DIR)/$${kind##*:}.java || exit 1; \
	done
	@echo "keel: regenerated $(GEN_DIR)"

bench: bin/keel
	bench/run.sh

# The echo benchmark against C epoll, Netty and JDK NIO (~10-15 min; QUICK=1 for ~2-3 min).
bench-echo: bin/keel
	bench/echo-bench.sh

# keel serve beside nginx and Netty on static files (~15 min; QUICK=1 for ~4 min).
bench-serve: bin/keel
	bench/serve-bench.sh

# keel proxy in front of the C echo server beside a direct connection (~4 min; QUICK=1 for ~1 min).
bench-proxy: bin/keel
	bench/proxy-bench.sh

clean:
	$(MVN) -q clean
	$(MAKE) -C native clean
	rm -rf bin
