// The input checks of odeint that need no step (solve_inputs.cpp), and the one rule that decides
// between fixed and adaptive stepping, shared by the checks and the loop.
#pragma once

#include <span>

#include "neuralode/ode/butcher_tableau.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/types.hpp"

namespace neuralode::ode::detail {

// Whether a solve steps on a fixed grid (no error control) or adaptively.
bool is_fixed_step(const ButcherTableau& tab, const SolveOptions& options);

// Every check of a solve's inputs that needs no step, in this order: times, y0, options.validate
// against the shape, times and the fixed-step count against max_num_steps, the grid, first_step
// and max_step against the interval; then q against the system's quadrature_size and an all-zero
// norm_weights. Throws InvalidArgument naming the value and what is accepted.
template <class Scalar>
void check_solve_inputs(ConstMatrixView<Scalar> y0, std::span<const Scalar> q,
                        std::span<const Scalar> times, const SolveOptions& options,
                        Index quadrature_size);

}  // namespace neuralode::ode::detail
