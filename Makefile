# neuralode: the two commands of the README, and a few more.
#   make run    set up, build (Release, in build/), run the demo
#   make test   set up, build, run every test
#   make bench  set up, build, run the benchmarks (JSON in build/bench-results/)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test bench format clean

all: build

deps:
	@./scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 \
	  || (cat $(BUILD).configure.log; exit 1)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@$(BUILD)/neuralode demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@mkdir -p $(BUILD)/bench-results
	@$(BUILD)/neuralode bench solvers --json | tee $(BUILD)/bench-results/solvers.jsonl
	@$(BUILD)/bench/bench_solver_overhead --benchmark_format=json \
	  --benchmark_out=$(BUILD)/bench-results/solver_overhead.json --benchmark_out_format=json

format:
	@clang-format -i $$(git ls-files '*.hpp' '*.cpp' '*.hpp.in')

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
