# neuralode: the two commands of the README, and a few more.
#   make run    set up, build (Release, in build/), train the spiral demo and write its figures
#   make test   set up, build, run every test
#   make bench  set up, build, run the benchmarks (JSON in build/bench-results/)
BUILD ?= build
JOBS ?= $(shell nproc)
# The Makefile's build is this machine's: native instruction set (see NEURALODE_NATIVE in
# CMakeLists.txt; a package meant for other machines is configured without it).
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test bench format clean

all: build

deps:
	@./scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DNEURALODE_NATIVE=ON $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 \
	  || (cat $(BUILD).configure.log; exit 1)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The demo needs the program only: a newcomer sees the figure without first compiling the tests
# and benchmarks (about a third of the build); `make test` builds the rest.
run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target neuralode_cli
	@$(BUILD)/neuralode train spiral

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@mkdir -p $(BUILD)/bench-results
	@$(BUILD)/neuralode bench solvers --json | tee $(BUILD)/bench-results/solvers.jsonl
	@for g in direct adjoint checkpoint binomial; do \
	  $(BUILD)/neuralode bench spiral --grad $$g --json; done | tee $(BUILD)/bench-results/spiral.jsonl
	@for g in direct adjoint checkpoint binomial; do for n in 10 100; do \
	  $(BUILD)/neuralode bench memory --grad $$g --steps $$n --dim 1024 --json; done; done \
	  | tee $(BUILD)/bench-results/memory.jsonl
	@for b in $(BUILD)/bench/bench_*; do \
	  $$b --benchmark_format=json --benchmark_out=$(BUILD)/bench-results/$$(basename $$b).json \
	  --benchmark_out_format=json > /dev/null && echo "wrote $(BUILD)/bench-results/$$(basename $$b).json"; done

format:
	@clang-format -i $$(git ls-files '*.hpp' '*.cpp' '*.hpp.in')

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
