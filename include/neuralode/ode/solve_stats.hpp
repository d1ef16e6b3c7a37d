// SolveStats: what a solve did and what it cost, as Ceres's Summary: a one-line brief() for logs
// and an aligned report() for people.
#pragma once

#include <cstdint>
#include <string>

namespace neuralode::ode {

struct SolveStats {
  std::string method;               // the method that ran
  bool fixed_step = false;          // true when no error control was used
  std::int64_t nfe = -1;            // right-hand side evaluations (each over the whole batch)
  std::int64_t num_accepted = -1;   // accepted steps
  std::int64_t num_rejected = -1;   // rejected steps (error too large or non-finite state)
  double first_step_requested = 0;  // SolveOptions::first_step as given (0 = automatic)
  double first_step_used = 0;       // the first step actually attempted
  double last_step = 0;             // the last accepted step (signed: negative runs backwards)
  double wall_seconds = 0;          // wall-clock time of the solve
  // -1 in the counters means "not run".

  std::string brief() const;   // "dopri5: 74 steps (3 rejected), nfe 461, 0.12 ms"
  std::string report() const;  // several aligned lines
};

}  // namespace neuralode::ode
