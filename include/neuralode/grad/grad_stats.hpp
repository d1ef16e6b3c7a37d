// GradStats: what a forward solve plus its backward pass did and kept.
#pragma once

#include <cstdint>
#include <string>

#include "neuralode/ode/solve_stats.hpp"

namespace neuralode::grad {

struct GradStats {
  std::string method;       // the gradient method that ran
  ode::SolveStats forward;  // the forward solve
  std::int64_t nfe_backward =
      -1;  // evaluations of f or its vector-Jacobian product in the backward pass
  std::int64_t num_vjp = -1;  // of which vector-Jacobian products
  std::int64_t backward_accepted =
      -1;  // steps of the backward solve (reversed steps for direct/binomial)
  std::int64_t backward_rejected = -1;
  std::int64_t nfe_recompute =
      -1;  // forward evaluations repeated during backward (checkpoint, binomial)
  // Peak bytes the method held for the backward pass: tapes, checkpoints, snapshots, the backward
  // solve's workspace. Excludes the caller's own buffers (y0, outputs, gradients).
  std::size_t bytes_kept = 0;
  double forward_seconds = 0;
  double backward_seconds = 0;

  std::string brief() const;
  std::string report() const;
};

}  // namespace neuralode::grad
