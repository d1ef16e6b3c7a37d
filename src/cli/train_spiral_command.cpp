// `neuralode train spiral`: the spiral demo (apps::train_spiral) from the command line.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>

#include "cli/commands.hpp"
#include "cli/flags.hpp"
#include "cli/solver_flags.hpp"
#include "neuralode/apps/spiral.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/ode.hpp"

namespace neuralode::cli {

namespace {

// --seed takes every std::uint64_t, which integer_at_least (a signed 64-bit range) cannot say.
CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        std::uint64_t v = 0;
        const char* end = value.data() + value.size();
        const auto [ptr, ec] = std::from_chars(value.data(), end, v);
        if (value.empty() || ec != std::errc() || ptr != end)
          return detail::cat("must be an integer in [0, ",
                             std::numeric_limits<std::uint64_t>::max(), "], got '", value, "'");
        return {};
      },
      "an integer in [0, 2^64 - 1]");
}

constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

}  // namespace

// Flags shared by `train spiral` and `bench spiral`: every SpiralOptions field under its name, the
// nested solver and gradient options through the flags every command shares (solver_flags.hpp).
// Each value is checked here for its own range (the message names the flag); the ranges that
// depend on other fields (--batch-size against --batch-time) are checked by
// SpiralOptions::validate() before any work, with messages that list what is accepted.
void add_spiral_flags(CLI::App& cmd, apps::SpiralOptions& o) {
  cmd.add_option("--iters", o.iters, "Optimizer steps")
      ->check(integer_at_least(1, kIntMax))
      ->capture_default_str();
  add_solve_flags(cmd, o.solve);
  add_grad_flags(cmd, o.grad);
  cmd.add_option("--lr", o.lr, "RMSprop learning rate")
      ->check(positive_real())
      ->capture_default_str();
  cmd.add_option("--batch-size", o.batch_size,
                 "Windows per step (at most data points - --batch-time)")
      ->check(integer_at_least(1, kIntMax))
      ->capture_default_str();
  cmd.add_option("--batch-time", o.batch_time, "Points per window (2 to data points - 1)")
      ->check(integer_at_least(2, kIntMax))
      ->capture_default_str();
  cmd.add_option("--seed", o.seed, "Seed of initialisation and batch sampling")
      ->check(seed_value())
      ->capture_default_str();
  cmd.add_option("--dtype", o.dtype, "Scalar type: float32, float64")->capture_default_str();
  cmd.add_option("--threads", o.threads, "Threads for large matrix products")
      ->check(integer_at_least(1, apps::SpiralOptions::kMaxThreads))
      ->capture_default_str();
}

void add_train_spiral_command(CLI::App& root) {
  auto o = std::make_shared<apps::SpiralOptions>();
  CLI::App* cmd = train_group(root).add_subcommand(
      "spiral", "Learn dy/dt = (y^3)A from one trajectory (torchdiffeq's ode_demo, same defaults)");
  add_spiral_flags(*cmd, *o);
  cmd->add_option("--test-freq", o->test_freq,
                  "Whole-trajectory loss, metrics and checkpoint every N steps")
      ->check(integer_at_least(1, kIntMax))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (a new run needs one that holds no run)")
      ->capture_default_str();
  cmd->add_flag("--resume", o->resume,
                "Continue from OUT/checkpoint.safetensors (with the options it was started with; "
                "--iters and --test-freq may change)");
  cmd->add_flag("--quiet", o->quiet, "No progress line");
  cmd->callback([o] {
    const apps::SpiralResult r = apps::train_spiral(*o, std::cout);
    std::cout << "final whole-trajectory loss " << r.final_loss << " after " << r.iterations
              << " iterations";
    if (r.steps_run > 0)
      std::cout << " (" << r.ms_per_iter << " ms per step, mean NFE " << r.mean_nfe_forward
                << " forward / " << r.mean_nfe_backward << " backward)\n";
    else
      std::cout << " (none left to run: the checkpoint was at --iters already)\n";
    std::cout << "metrics:    " << r.metrics.string() << "\n"
              << "checkpoint: " << r.checkpoint.string() << "\n";
    if (!r.figure.empty())
      std::cout << "figures:    " << r.figure.string() << " (and .svg), "
                << r.training_figure.string() << "\n";
  });
}

}  // namespace neuralode::cli
