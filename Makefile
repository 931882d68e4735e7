# mlctl - build, test, demo, bench.
#   make            build ./mlctl
#   make test       install what is missing (onnxruntime-node too), build, run unit + CLI tests
#   make test SANITIZE=address,undefined
#   make demo       install what is missing, build, run the whole flow on examples/iris
#   make bench      speed and memory against openssl/sha256sum/cp/tar, and curl on a local registry
#   make FAULTS=0   a build without the test-only fault points (MLCTL_FAULT)
#   make fuzz       every parser under libFuzzer + ASan for FUZZ_SECONDS each (default 60)

CC ?= cc
PKGS := libgit2 libcurl sqlite3 libarchive libcjson libcrypto zlib
# linked; the others are loaded at first use (lib/lazy.h, lib/lazy.list)
LINK_PKGS := sqlite3 libcjson zlib
PREFIX ?= /usr/local
BUILD ?= build
SANITIZE ?=
# FAULTS=0 compiles out the test-only fault points (MLCTL_FAULT, see lib/util.h)
FAULTS ?= 1

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -pthread -Ilib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null) -ldl
ifeq ($(FAULTS),0)
CFLAGS += -DMLCTL_NO_FAULTS
endif
ifneq ($(SANITIZE),)
BUILD := build-san
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC := $(wildcard lib/*.c lib/*/*.c)
CMD_SRC := $(wildcard cmd/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/embedded.o
UNIT_SRC := $(wildcard tests/unit/*.c)
EMBED := completions/mlctl.bash completions/_mlctl completions/mlctl.fish

ifeq ($(SANITIZE),)
BIN := mlctl
else
BIN := $(BUILD)/mlctl
endif

.PHONY: all deps test unit bats demo bench fuzz install uninstall clean
all: $(BIN)

deps:
	@scripts/install-deps $(DEPS_FLAGS)

# the flags a build used: objects depend on them, so a build with others (FAULTS=0) remakes them
FLAGS_FILE := $(BUILD)/flags
$(shell mkdir -p $(BUILD) && echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_FILE) || \
	echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $(FLAGS_FILE))

$(BUILD)/%.o: %.c $(wildcard lib/*.h lib/*/*.h cmd/*.h) $(FLAGS_FILE) $(BUILD)/gen/lazy.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -I$(BUILD) -c $< -o $@

$(BUILD)/gen/spdx_ids.h: scripts/gen-spdx
	@mkdir -p $(dir $@)
	@scripts/gen-spdx > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/spdx.o: $(BUILD)/gen/spdx_ids.h

$(BUILD)/gen/lazy.h: lib/lazy.list scripts/gen-lazy
	@mkdir -p $(dir $@)
	@CC="$(CC)" scripts/gen-lazy lib/lazy.list > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/embedded.c: $(EMBED) scripts/embed
	@mkdir -p $(dir $@)
	@scripts/embed $(EMBED) > $@

$(BUILD)/gen/embedded.o: $(BUILD)/gen/embedded.c $(FLAGS_FILE)
	@$(CC) $(CFLAGS) -Icmd -c $< -o $@

$(BUILD)/libmlctl.a: $(LIB_OBJ)
	@rm -f $@ && ar rcsP $@ $^

$(BIN): $(CMD_OBJ) $(BUILD)/libmlctl.a
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CMD_OBJ) $(BUILD)/libmlctl.a $(PKG_LIBS)

$(BUILD)/unit: $(UNIT_SRC) $(BUILD)/libmlctl.a
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRC) $(BUILD)/libmlctl.a $(PKG_LIBS)

test: DEPS_FLAGS = --with-node
test: deps
	@$(MAKE) --no-print-directory $(BIN) $(BUILD)/unit
	@MLCTL_TEST_SLOW=$(if $(SANITIZE),4,1) scripts/run-tests $(BUILD)/unit $(abspath $(BIN))

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/demo

fuzz: deps
	@scripts/fuzz

bench: deps
	@$(MAKE) --no-print-directory $(BIN)
	@scripts/bench

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mlctl
	install -D -m 0644 completions/mlctl.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlctl
	install -D -m 0644 completions/_mlctl $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mlctl
	install -D -m 0644 completions/mlctl.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mlctl.fish
	for f in docs/*.md; do install -D -m 0644 $$f $(DESTDIR)$(PREFIX)/share/doc/mlctl/$$(basename $$f); done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mlctl \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlctl \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mlctl \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mlctl.fish
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/mlctl

clean:
	rm -rf build build-san build-fuzz mlctl
