// `neuralode bench memory`: the reference text's memory table, measured. One forward and one
// backward pass of a time-stationary D -> D tanh MLP field on a B x D state with N fixed steps;
// prints what the gradient method kept (its own accounting) and the process's peak RSS.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/solver_flags.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/sequential.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/train/process_memory.hpp"
#include "train/memory_budget.hpp"

namespace neuralode::cli {

namespace {

using detail::cat;

struct MemoryBenchOptions {
  grad::GradOptions grad;
  // Only the method is a flag: the benchmark steps a fixed grid of --steps (step_size = 1 /
  // steps, set by the run), so tolerances and step-size control do not apply.
  ode::SolveOptions solve = {.method = "euler"};
  int steps = 100;
  Index batch = 32;
  Index dim = 4096;
  bool json = false;
  bool checkpoint_every_given = false;  // --checkpoint-every was on the command line

  // Every check before anything is allocated: the words (with the accepted ones listed), the
  // combination of --checkpoint-every with --grad, and the predicted memory.
  void validate() const;
  // A lower bound on the bytes the benchmark allocates (float): the field's parameters
  // P = 2 (D^2 + D) and the gradient's, the state, its cotangent rows and dL/dy0 (4 B D), and what
  // the gradient method keeps at least: direct the state at each of the N steps, checkpoint one
  // state per K steps, adjoint its parameter-gradient quadrature (P); binomial nothing counted.
  // Measured peaks are above it (see bench_memory_bad_input_test.cpp); it is a bound for refusing
  // what cannot fit, not the benchmark's result.
  double predicted_bytes() const;
  // `solve` stepping --steps fixed steps over [0, 1] (the cap raised to --steps: it is the count).
  ode::SolveOptions fixed_steps() const {
    ode::SolveOptions s = solve;
    s.step_size = 1.0 / steps;
    s.max_num_steps = std::max<std::int64_t>(s.max_num_steps, steps);
    return s;
  }
};

double MemoryBenchOptions::predicted_bytes() const {
  const double B = static_cast<double>(batch), D = static_cast<double>(dim);
  const double N = static_cast<double>(steps), P = 2 * (D * D + D), state = B * D;
  double kept = 0;
  if (grad.method == "direct") kept = N * state;
  if (grad.method == "checkpoint") kept = std::ceil(N / grad.checkpoint_every) * state;
  if (grad.method == "adjoint") kept = P;
  return sizeof(float) * (2 * P + 4 * state + kept);
}

void MemoryBenchOptions::validate() const {
  try {
    grad.validate();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(cat("bench memory: --grad: ", e.what()));
  }
  try {
    ode::find_method(solve.method);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(cat("bench memory: --method: ", e.what()));
  }
  if (checkpoint_every_given && grad.method != "checkpoint")
    throw InvalidArgument(
        cat("bench memory: --checkpoint-every applies to --grad checkpoint "
            "only, not to --grad ",
            grad.method, "; leave it out or use --grad checkpoint"));
  fixed_steps().validate();
  detail::require_memory("bench memory",
                         cat("--grad ", grad.method, " with --steps ", steps, ", --batch ", batch,
                             " and --dim ", dim, " (a ", dim, " x ", dim, " MLP field)"),
                         predicted_bytes(), "use a smaller --dim, --batch or --steps");
}

void run_memory_bench(const MemoryBenchOptions& o) {
  using Scalar = float;
  o.validate();
  const Index B = o.batch, D = o.dim;
  auto root = std::make_unique<nn::Sequential<Scalar>>(
      std::make_unique<nn::Linear<Scalar>>(D, D),
      std::make_unique<nn::Activation<Scalar>>(nn::ActivationFn::tanh, D),
      std::make_unique<nn::Linear<Scalar>>(D, D));
  nn::LayerField<Scalar> field(std::move(root));
  nn::init_default(field, 0);
  Matrix<Scalar> y0(B, D);
  nn::Rng rng(1);
  for (Index i = 0; i < y0.size(); ++i) y0.data()[i] = static_cast<Scalar>(rng.uniform(-1, 1));
  std::vector<Scalar> times = {0.0f, 1.0f};
  const ode::SolveOptions solve = o.fixed_steps();
  auto method = grad::make_gradient_method<Scalar>(o.grad);
  Matrix<Scalar> dl(2, B * D);
  dl.setZero();
  dl.row(1).setConstant(1.0f / static_cast<Scalar>(B * D));  // L = mean(y(1))
  grad::Gradients<Scalar> g;
  g.params.resize(field.num_params());  // the caller's buffers exist before the baseline
  g.y0.resize(B, D);
  const std::size_t rss_baseline = train::current_rss_bytes();

  method->forward(field, ConstMatrixView<Scalar>(y0.data(), B, D), times, solve);
  method->backward(ConstMatrixView<Scalar>(dl.data(), 2, B * D), g);
  const grad::GradStats& st = method->stats();
  const std::size_t peak = train::peak_rss_bytes();

  nlohmann::json j;
  j["grad"] = o.grad.method;
  j["method"] = o.solve.method;
  j["steps"] = o.steps;
  j["batch"] = B;
  j["dim"] = D;
  j["bytes_kept"] = st.bytes_kept;
  j["peak_rss_bytes"] = peak;
  j["rss_baseline_bytes"] = rss_baseline;
  j["peak_rss_growth_bytes"] = peak > rss_baseline ? peak - rss_baseline : 0;
  j["predicted_min_bytes"] = o.predicted_bytes();  // what validate() compared with the machine
  j["forward_ms"] = st.forward_seconds * 1e3;
  j["backward_ms"] = st.backward_seconds * 1e3;
  j["nfe_forward"] = st.forward.nfe;
  j["nfe_backward"] = st.nfe_backward;
  j["grad_norm"] = std::sqrt(static_cast<double>(g.params.squaredNorm()));
  if (o.json) {
    std::cout << j.dump() << "\n";
    return;
  }
  std::printf("%s\n", st.report().c_str());
  std::printf(
      "peak RSS %.1f MiB (baseline %.1f MiB, growth %.1f MiB); bytes kept %.1f MiB; |dL/dtheta| = "
      "%.6g\n",
      peak / 1048576.0, rss_baseline / 1048576.0,
      (peak > rss_baseline ? peak - rss_baseline : 0) / 1048576.0, st.bytes_kept / 1048576.0,
      j["grad_norm"].get<double>());
}

}  // namespace

void add_bench_memory_command(CLI::App& root) {
  auto opts = std::make_shared<MemoryBenchOptions>();
  CLI::App* cmd = bench_group(root).add_subcommand(
      "memory",
      "Memory of a gradient method: one forward + backward of a D->D tanh MLP field (float32)");
  add_solve_flags(*cmd, opts->solve, "Solver (fixed steps)",
                  {.tolerances = false, .step_size = false, .control = false, .max_steps = false});
  add_grad_flags(*cmd, opts->grad);
  cmd->add_option("--steps", opts->steps, "Number of steps N over t in [0, 1]")
      ->capture_default_str()
      ->check(integer_at_least(1, INT32_MAX));
  cmd->add_option("--batch", opts->batch, "Batch size B")
      ->capture_default_str()
      ->check(integer_at_least(1, std::int64_t{1} << 31));
  cmd->add_option("--dim", opts->dim,
                  "State size D (the field is Linear(D,D) -> tanh -> Linear(D,D))")
      ->capture_default_str()
      ->check(integer_at_least(1, std::int64_t{1} << 31));
  cmd->add_flag("--json", opts->json, "One JSON object instead of the report");
  cmd->footer(
      "Sizes are checked before anything is allocated: a run predicted to need more memory than "
      "the machine has available is refused with both numbers.");
  cmd->callback([opts, cmd] {
    opts->checkpoint_every_given = cmd->count("--checkpoint-every") > 0;
    run_memory_bench(*opts);
  });
}

}  // namespace neuralode::cli
