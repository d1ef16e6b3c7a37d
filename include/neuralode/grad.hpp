// neuralode's gradient methods: gradients of a loss through an ODE solve, by backpropagation
// through the solver's steps (direct, binomial) or by the adjoint method (adjoint, checkpoint).
#pragma once

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/grad/grad_stats.hpp"
#include "neuralode/grad/gradient_method.hpp"
