# Builds and runs the libFuzzer targets: `make fuzz` in the build tree runs
# this file with the variables below (see Makefile.am); it is plain GNU make,
# kept apart so automake never reads its pattern rules.
#
#   srcdir        the source tree
#   FUZZ_CC       a clang with libFuzzer (Debian: clang, libclang-rt-14-dev)
#   FUZZ_SECONDS  how long each target runs
#   FUZZ_TARGETS  which targets (default: all of them)
#   CORE_SOURCES  the core's sources, as liballeycat.a lists them
#   FUZZ_CPPFLAGS, FUZZ_DATADIRS, FUZZ_PKG_CFLAGS, FUZZ_LIBS
#                 as the normal build has them

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= kinesis push telemetry event eventstream cbor h2
FUZZ_AR ?= ar

out := fuzz
obj := $(out)/obj
san := -fsanitize=address,undefined -fno-sanitize-recover=undefined
flags := -g -O1 -fno-omit-frame-pointer $(san) -std=gnu11

core_o := $(patsubst %.c,$(obj)/%.o,$(filter %.c,$(CORE_SOURCES)))
fuzzers := $(FUZZ_TARGETS:%=$(out)/fuzz_%)

.PHONY: build run check-cc
.SECONDARY:

build: check-cc $(fuzzers)

# A clear word when the compiler cannot fuzz, rather than a link error.
check-cc:
	@mkdir -p $(out)
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
		>$(out)/check-cc.c
	@$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $(out)/check-cc $(out)/check-cc.c \
		2>$(out)/check-cc.log || { cat $(out)/check-cc.log; \
		echo "make fuzz: $(FUZZ_CC) cannot build a libFuzzer target; on Debian 12:" \
		"apt-get install clang libclang-rt-14-dev (or set FUZZ_CC)"; exit 1; }

# Everything is compiled for coverage (fuzzer-no-link); only the link
# brings in libFuzzer's main.
$(obj)/%.o: $(srcdir)/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(flags) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) $(FUZZ_DATADIRS) $(FUZZ_PKG_CFLAGS) \
		-MMD -MP -c -o $@ $<

$(out)/libcore.a: $(core_o)
	rm -f $@
	$(FUZZ_AR) cr $@ $^

$(out)/fuzz_%: $(obj)/tests/fuzz/fuzz_%.o $(obj)/tests/fuzz/fixture.o $(out)/libcore.a
	$(FUZZ_CC) $(flags) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# Every target runs, even after one failed, so one run reports them all.
run: build
	@status=0; for t in $(FUZZ_TARGETS); do \
		$(SHELL) $(srcdir)/tests/fuzz/run.sh $(out)/fuzz_$$t $$t $(srcdir) \
			$(FUZZ_SECONDS) $(out) || status=1; \
	done; exit $$status

-include $(core_o:.o=.d) $(FUZZ_TARGETS:%=$(obj)/tests/fuzz/fuzz_%.d) $(obj)/tests/fuzz/fixture.d
