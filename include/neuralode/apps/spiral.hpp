// The spiral demo: learn the dynamics dy/dt = (y^3) A from one trajectory, as torchdiffeq's
// examples/ode_demo.py does, with every setting of that script as the default. `neuralode train
// spiral` and `neuralode bench spiral` run this; so can a C++ program.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/ode/solve_options.hpp"

namespace neuralode::apps {

struct SpiralOptions {
  // SolveOptions{} with max_num_steps = 10^4 (see `solve`).
  static ode::SolveOptions default_solve() {
    ode::SolveOptions s;
    s.max_num_steps = 10000;
    return s;
  }

  // ---- Training (torchdiffeq's ode_demo defaults) ----
  int iters = 2000;        // optimizer steps in all (a resumed run counts the checkpoint's); >= 1
  int batch_size = 20;     // random windows per step; 1 to data_size - batch_time (drawn without
                           // replacement)
  int batch_time = 10;     // consecutive points per window; 2 to data_size - 1
  double lr = 1e-3;        // RMSprop learning rate; finite, > 0. Far above 1e-2 the run diverges
                           // (train_spiral then stops with SolveError naming the iteration)
  int test_freq = 20;      // whole-trajectory loss, metrics line and checkpoint every this many
                           // steps (and at the last); >= 1
  std::uint64_t seed = 0;  // batch sampling and weight initialisation; any value
  // ---- Solver and gradient ----
  // The solver of every training and test solve, validated once by validate() (in the scalar
  // type of --dtype). Defaults: SolveOptions' own (dopri5, rtol 1e-7, atol 1e-9: ode_demo's
  // torchdiffeq defaults; the PI controller), except max_num_steps: a valid run takes about 10
  // steps per window and a few hundred for the whole trajectory; a diverging one takes millions,
  // and with grad direct each step is kept for the backward pass (about 60 KB at batch_size 20 in
  // float32), so without a cap it runs for minutes and fills the memory before failing. Reaching
  // it stops the run with SolveError naming the iteration.
  ode::SolveOptions solve = default_solve();
  // How the gradient goes through each window's solve (direct: ode_demo's backpropagation).
  grad::GradOptions grad;
  // ---- Data (ode_demo: y0 = [2, 0], t in linspace(0, 25, 1000)) ----
  int data_size = 1000;  // points of the true trajectory; >= 3
  double t_end = 25.0;   // its last time; finite, > 0
  // ---- Run ----
  std::string dtype = "float32";  // float32 (PyTorch's default, as in ode_demo) | float64
  int threads = 1;                // 1 to kMaxThreads
  std::filesystem::path out = "runs/spiral";  // see prepare_run_directory (run_directory.hpp)
  // Continue from out/checkpoint.safetensors. The options that define the run (batch_size,
  // batch_time, lr, seed, every field of solve but max_num_steps, every field of grad, data_size,
  // t_end, dtype) must equal the checkpoint's, or train_spiral refuses naming the first that
  // differs (a checkpoint written before a solver or gradient option existed counts as having its
  // default); iters, test_freq, solve.max_num_steps, threads, quiet, figures and warmup may
  // change.
  bool resume = false;
  bool figures = true;  // write spiral.png/.svg and training.png at the end
  bool quiet = false;   // no progress output
  int warmup = 0;       // first steps left out of SpiralResult::ms_per_iter (benchmarks);
                        // 0 to iters - 1, so that at least one step is timed

  // More threads than this is a typo, not a machine (the demo's products are 50 wide).
  static constexpr int kMaxThreads = 1024;

  // Throws InvalidArgument naming the field (as its flag, "--batch-size") and the accepted
  // values: every range above, the cross-field ones (warmup < iters, batch_size windows), and
  // solve.validate() and grad.validate() (the only place a training run checks them).
  void validate() const;
};

struct SpiralResult {
  int iterations = 0;      // total steps done (including resumed ones)
  int steps_run = 0;       // steps this call ran (0: a resumed run that had none left)
  double final_loss = 0;   // mean |pred - true| over the whole trajectory at the end
  double ms_per_iter = 0;  // wall time per training step (batch, forward, backward, optimizer),
                           // after the warm-up; excludes whole-trajectory tests and checkpoints;
                           // NaN when no step was timed
  double mean_nfe_forward = 0;  // per step, this process only
  double mean_nfe_backward = 0;
  std::filesystem::path checkpoint, metrics, figure, training_figure;  // empty when not written
};

// Trains, writing into options.out: metrics.jsonl, checkpoint.safetensors and, unless disabled,
// spiral.png, spiral.svg and training.png. Progress goes to `log`. Resuming with the same options
// reproduces the uninterrupted run's losses exactly.
//
// Bad input, before any work (nothing is written): InvalidArgument from options.validate(); the
// errors of prepare_run_directory (an unusable --out, or an existing run without --resume);
// with resume, IoError when there is no checkpoint or it is malformed, of another model or
// dtype, or holds NaN/Inf, and InvalidArgument when an option that defines the run differs from
// the checkpoint's (see SpiralOptions::resume).
// During the run:
// - SolveError "spiral: training diverged at iteration N: ..." when the loss, the gradient or the
//   parameters become NaN/Inf, and "spiral: iteration N, <solve>: <solver's message>; ... try a
//   lower --lr" when a solve fails; nothing after the last good checkpoint is written, and that
//   checkpoint is left as it was.
// - SIGINT/SIGTERM (train::StopSignal, installed for the duration of the call): the current step
//   finishes, a checkpoint of it is written (atomically), and Interrupted is thrown; a resume
//   continues exactly where it stopped. The metrics line of a test_freq iteration after the
//   resume averages NFE and time over the steps since the resume only.
SpiralResult train_spiral(const SpiralOptions& options, std::ostream& log);

}  // namespace neuralode::apps
