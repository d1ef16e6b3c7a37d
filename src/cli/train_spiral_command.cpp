// `neuralode train spiral`: the spiral demo (train::train_spiral) from the command line.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/train/spiral.hpp"

namespace neuralode::cli {

// Flags shared by `train spiral` and `bench spiral`: every SpiralOptions field under its name.
void add_spiral_flags(CLI::App& cmd, train::SpiralOptions& o) {
  cmd.add_option("--iters", o.iters, "Optimizer steps")->capture_default_str();
  cmd.add_option("--method", o.method, "Solver: " + ode::method_names())->capture_default_str();
  cmd.add_option("--rtol", o.rtol, "Relative tolerance")->capture_default_str();
  cmd.add_option("--atol", o.atol, "Absolute tolerance")->capture_default_str();
  cmd.add_option("--grad", o.grad, "Gradient method: " + grad::gradient_method_names())
      ->capture_default_str();
  cmd.add_option("--adjoint-norm", o.adjoint_norm, "Backward error norm: full, seminorm")
      ->capture_default_str();
  cmd.add_option("--lr", o.lr, "RMSprop learning rate")->capture_default_str();
  cmd.add_option("--batch-size", o.batch_size, "Windows per step")->capture_default_str();
  cmd.add_option("--batch-time", o.batch_time, "Points per window")->capture_default_str();
  cmd.add_option("--seed", o.seed, "Seed of initialisation and batch sampling")
      ->capture_default_str();
  cmd.add_option("--dtype", o.dtype, "Scalar type: float32, float64")->capture_default_str();
  cmd.add_option("--threads", o.threads, "Threads for large matrix products")
      ->capture_default_str();
}

void add_train_spiral_command(CLI::App& root) {
  auto o = std::make_shared<train::SpiralOptions>();
  CLI::App* cmd = train_group(root).add_subcommand(
      "spiral", "Learn dy/dt = (y^3)A from one trajectory (torchdiffeq's ode_demo, same defaults)");
  add_spiral_flags(*cmd, *o);
  cmd->add_option("--test-freq", o->test_freq,
                  "Whole-trajectory loss, metrics and checkpoint every N steps")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory")->capture_default_str();
  cmd->add_flag("--resume", o->resume, "Continue from OUT/checkpoint.safetensors");
  cmd->add_flag("--quiet", o->quiet, "No progress line");
  cmd->callback([o] {
    const train::SpiralResult r = train::train_spiral(*o, std::cout);
    std::cout << "final whole-trajectory loss " << r.final_loss << " after " << r.iterations
              << " iterations (" << r.ms_per_iter << " ms per step, mean NFE " << r.mean_nfe_forward
              << " forward / " << r.mean_nfe_backward << " backward)\n"
              << "metrics:    " << r.metrics.string() << "\n"
              << "checkpoint: " << r.checkpoint.string() << "\n";
    if (!r.figure.empty())
      std::cout << "figures:    " << r.figure.string() << " (and .svg), "
                << r.training_figure.string() << "\n";
  });
}

}  // namespace neuralode::cli
