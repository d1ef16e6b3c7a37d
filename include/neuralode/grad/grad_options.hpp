// GradOptions: which gradient method runs through a solve, and its settings (torchdiffeq's and
// diffrax's names where they exist).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace neuralode::grad {

// Which components the adjoint's step-size control looks at.
enum class AdjointNorm {
  full,      // every component of [x, a, g_theta] (torchdiffeq's default)
  seminorm,  // x and a only: g_theta is an integral that never feeds back into the dynamics, so its
             // error need not limit the step (Kidger, Chen & Lyons 2021, "Hey, that's not an ODE").
};
std::string_view to_string(AdjointNorm n);
AdjointNorm parse_adjoint_norm(std::string_view word);  // "full" | "seminorm"

struct GradOptions {
  // A name from the registry (grad::gradient_method_names()): direct, adjoint, checkpoint,
  // binomial. direct is exact for the computation the solver did and fastest while the tape fits
  // in memory; adjoint and checkpoint keep memory flat in the number of steps.
  std::string method = "direct";

  // ---- direct ----
  // Direct keeps every stage evaluation's activations (the field's record: its layers' contexts,
  // Layer::context_size) when one step's records take at most this many bytes, so its backward pass
  // runs each VJP without re-running the field's forward first (~30 % of a spiral-demo step).
  // Larger records (image fields) are not kept: the forward is re-run instead. 0 = never keep them.
  std::size_t direct_record_step_bytes = std::size_t(1) << 20;

  // ---- adjoint and checkpoint: the backward solve ----
  // Method of the backward solve; empty = the forward method. When the forward solve stepped on
  // a user grid (SolveOptions::grid), the backward solve steps on the same grid, reversed;
  // step_size carries over as it is.
  std::string adjoint_method;
  // Tolerances of the backward solve; 0 = the forward solve's rtol/atol (torchdiffeq's rule).
  double adjoint_rtol = 0;
  double adjoint_atol = 0;
  AdjointNorm adjoint_norm = AdjointNorm::full;

  // ---- checkpoint ----
  // A forward state is kept every this many accepted steps (and at every output time); memory is
  // O(N / checkpoint_every) states plus one segment of checkpoint_every steps during the backward
  // pass.
  int checkpoint_every = 32;

  // ---- binomial ----
  // Stored states during the backward pass; 0 = ceil(log2 N) + 1, enough for recursive bisection.
  int binomial_snapshots = 0;

  // Also compute dL/dt_i for every output time (one extra evaluation of f per output time).
  bool time_gradients = false;

  // Throws InvalidArgument naming the field and the accepted values.
  void validate() const;
};

}  // namespace neuralode::grad
