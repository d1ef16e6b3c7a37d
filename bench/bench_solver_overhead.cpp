// Solver overhead per step: what odeint's step loop costs beyond the right-hand side, for dopri5
// and tsit5 over state sizes dim in {2, 8, 64} and batch in {1, 20, 512}. The target is
// <= 0.3 us per step excluding the RHS for batch*dim <= 64.
//
// Method: the full odeint form with a pre-sized SolverWorkspace and Solution, so no iteration
// allocates; the right-hand side is dy = -y as a tight loop. Each iteration is one solve over
// [0, 1] in exactly 128 steps of h = 1/128 (a power of two, so t lands on 1 without rounding):
//   fixed     step_size = h: no error estimate, no controller (run_fixed)
//   adaptive  first_step = max_step = h at loose tolerances: every step is accepted and pinned at
//             max_step, so this times the error norm and the controller too (run_adaptive)
//   adaptive_pid  the same with Controller::pid (pcoeff = icoeff = 0.3): the PID's extra terms
// Counters: ns_per_step (this thread's CPU time in the loop / steps; CPU rather than wall time so
// that a busy machine does not count time spent descheduled), rhs_ns_per_step (the same RHS called
// alone nfe/steps times, best of several rounds) and overhead_ns_per_step, their difference.
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "neuralode/ode.hpp"

namespace {

using neuralode::ConstMatrixView;
using neuralode::Index;
using neuralode::Matrix;
using neuralode::MatrixView;
namespace ode = neuralode::ode;

constexpr int kSteps = 128;

class MinusY final : public ode::System<double> {
 public:
  void rhs(double, ConstMatrixView<double> y, MatrixView<double> dy) override {
    const Index n = y.size();
    const double* in = y.data();
    double* out = dy.data();
    for (Index i = 0; i < n; ++i) out[i] = -in[i];
  }
};

enum class Mode { fixed, adaptive, adaptive_pid };

// CPU time of the calling thread, in seconds.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Nanoseconds per virtual rhs call on a batch x dim state: the best of 5 rounds of >= 1 ms each,
// so one interruption does not inflate it.
double rhs_ns_per_call(ode::System<double>& system, Index batch, Index dim) {
  Matrix<double> y = Matrix<double>::Constant(batch, dim, 1.0), dy(batch, dim);
  ConstMatrixView<double> in(y.data(), batch, dim);
  MatrixView<double> out(dy.data(), batch, dim);
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    std::int64_t calls = 0;
    const double start = thread_cpu_seconds();
    double seconds = 0;
    do {
      for (int i = 0; i < 100; ++i) {
        system.rhs(0.0, in, out);
        benchmark::DoNotOptimize(dy.data());
        benchmark::ClobberMemory();
      }
      calls += 100;
      seconds = thread_cpu_seconds() - start;
    } while (seconds < 1e-3);
    best = std::min(best, seconds * 1e9 / static_cast<double>(calls));
  }
  return best;
}

void BM_SolverStep(benchmark::State& state, const char* method, Mode mode) {
  const Index dim = state.range(0), batch = state.range(1);
  const double h = 1.0 / kSteps;
  ode::SolveOptions options;
  options.method = method;
  if (mode == Mode::fixed) {
    options.step_size = h;
  } else {
    options.first_step = h;
    options.max_step = h;
    options.rtol = options.atol = 1e-3;  // the local error of y' = -y at h = 1/128 is ~1e-13
    if (mode == Mode::adaptive_pid) {
      options.controller = ode::Controller::pid;
      options.pcoeff = options.icoeff = 0.3;
    }
  }
  MinusY system;
  const Matrix<double> y0 = Matrix<double>::Constant(batch, dim, 1.0);
  const ConstMatrixView<double> y0_view(y0.data(), batch, dim);
  const std::vector<double> times = {0.0, 1.0};
  ode::SolverWorkspace<double> workspace(ode::find_method(method), batch, dim);
  ode::Solution<double> solution;
  ode::odeint<double>(system, y0_view, times, options, workspace, solution);  // sizes the solution
  const ode::SolveStats stats = solution.stats;
  if (stats.num_accepted != kSteps || stats.num_rejected != 0) {
    state.SkipWithError(
        ("expected " + std::to_string(kSteps) + " accepted steps, got " + stats.brief()).c_str());
    return;
  }

  const double start = thread_cpu_seconds();
  for (auto _ : state) {
    ode::odeint<double>(system, y0_view, times, options, workspace, solution);
    benchmark::DoNotOptimize(solution.ys.data());
    benchmark::ClobberMemory();
  }
  const double seconds = thread_cpu_seconds() - start;
  const double steps = static_cast<double>(state.iterations()) * kSteps;
  const double ns_per_step = seconds * 1e9 / steps;
  const double evals_per_step = static_cast<double>(stats.nfe) / kSteps;
  const double rhs_ns = rhs_ns_per_call(system, batch, dim) * evals_per_step;
  state.counters["ns_per_step"] = ns_per_step;
  state.counters["rhs_ns_per_step"] = rhs_ns;
  state.counters["overhead_ns_per_step"] = ns_per_step - rhs_ns;
  state.counters["nfe_per_step"] = evals_per_step;
  state.SetItemsProcessed(state.iterations() * kSteps);
}

#define NEURALODE_STEP_BENCHMARK(method, mode)                           \
  BENCHMARK_CAPTURE(BM_SolverStep, method##_##mode, #method, Mode::mode) \
      ->ArgsProduct({{2, 8, 64}, {1, 20, 512}})                          \
      ->ArgNames({"dim", "batch"})                                       \
      ->Unit(benchmark::kMicrosecond)

NEURALODE_STEP_BENCHMARK(dopri5, fixed);
NEURALODE_STEP_BENCHMARK(dopri5, adaptive);
NEURALODE_STEP_BENCHMARK(dopri5, adaptive_pid);
NEURALODE_STEP_BENCHMARK(tsit5, fixed);
NEURALODE_STEP_BENCHMARK(tsit5, adaptive);

}  // namespace

BENCHMARK_MAIN();
