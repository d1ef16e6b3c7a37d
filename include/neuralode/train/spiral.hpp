// The spiral demo: learn the dynamics dy/dt = (y^3) A from one trajectory, as torchdiffeq's
// examples/ode_demo.py does, with every setting of that script as the default. `neuralode train
// spiral` and `neuralode bench spiral` run this; so can a C++ program.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>

namespace neuralode::train {

struct SpiralOptions {
  // ---- Training (torchdiffeq's ode_demo defaults) ----
  int iters = 2000;     // optimizer steps
  int batch_size = 20;  // random windows per step
  int batch_time = 10;  // consecutive points per window
  double lr = 1e-3;     // RMSprop learning rate
  int test_freq = 20;   // whole-trajectory loss, metrics line and checkpoint every this many steps
  std::uint64_t seed = 0;  // batch sampling and weight initialisation
  // ---- Solver and gradient ----
  std::string method = "dopri5";
  double rtol = 1e-7;
  double atol = 1e-9;
  std::string grad = "direct";        // direct | adjoint | checkpoint | binomial
  std::string adjoint_norm = "full";  // full | seminorm
  // ---- Data (ode_demo: y0 = [2, 0], t in linspace(0, 25, 1000)) ----
  int data_size = 1000;
  double t_end = 25.0;
  // ---- Run ----
  std::string dtype = "float32";  // float32 (PyTorch's default, as in ode_demo) | float64
  int threads = 1;
  std::filesystem::path out = "runs/spiral";
  bool resume = false;  // continue from out/checkpoint.safetensors
  bool figures = true;  // write spiral.png/.svg and training.png at the end
  bool quiet = false;   // no progress output
  int warmup = 0;       // first steps left out of SpiralResult::ms_per_iter (benchmarks)

  // Throws InvalidArgument naming the field and the accepted values.
  void validate() const;
};

struct SpiralResult {
  int iterations = 0;      // total steps done (including resumed ones)
  double final_loss = 0;   // mean |pred - true| over the whole trajectory at the end
  double ms_per_iter = 0;  // wall time per training step (batch, forward, backward, optimizer),
                           // after the warm-up; excludes whole-trajectory tests and checkpoints
  double mean_nfe_forward = 0;  // per step, this process only
  double mean_nfe_backward = 0;
  std::filesystem::path checkpoint, metrics, figure, training_figure;  // empty when not written
};

// Trains, writing into options.out: metrics.jsonl, checkpoint.safetensors and, unless disabled,
// spiral.png, spiral.svg and training.png. Progress goes to `log`. Resuming with the same options
// reproduces the uninterrupted run's losses exactly.
SpiralResult train_spiral(const SpiralOptions& options, std::ostream& log);

}  // namespace neuralode::train
