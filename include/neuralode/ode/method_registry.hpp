// The list of solvers. Every method is one row here, and everything that names methods (option
// parsing, the command line's help, the docs table, the test lists) reads this list.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "neuralode/ode/butcher_tableau.hpp"

namespace neuralode::ode {

// All registered tableaux, fixed-step methods first, in a stable order.
std::span<const ButcherTableau* const> all_methods();

// The tableau registered under `name` ("dopri5"). Throws InvalidArgument listing the accepted
// names when there is none.
const ButcherTableau& find_method(std::string_view name);

// "euler, midpoint, ..., dopri8": the accepted names, for help texts and error messages.
std::string method_names();

}  // namespace neuralode::ode
