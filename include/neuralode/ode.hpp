// neuralode's ODE solver core: explicit Runge-Kutta methods from Butcher tableaux, adaptive step
// control, dense output, statistics. Knows nothing of neural networks or gradients.
#pragma once

#include "neuralode/error.hpp"
#include "neuralode/ode/butcher_tableau.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "neuralode/ode/odeint.hpp"
#include "neuralode/ode/problems.hpp"
#include "neuralode/ode/solution.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/ode/solve_stats.hpp"
#include "neuralode/ode/solver_workspace.hpp"
#include "neuralode/ode/step_observer.hpp"
#include "neuralode/ode/system.hpp"
