// The tableaux behind the registry, one function per method, each defined in its own file in this
// folder. Internal: users reach them through find_method() / all_methods() (method_registry.hpp).
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/ode/butcher_tableau.hpp"

namespace neuralode::ode::detail {

// Each returns a function-local static that was built and validate()d on first use; the reference
// stays valid for the whole program.
const ButcherTableau& euler_tableau();
const ButcherTableau& midpoint_tableau();
const ButcherTableau& heun2_tableau();
const ButcherTableau& rk4_tableau();
const ButcherTableau& rk4_38_tableau();
const ButcherTableau& heun_euler_tableau();
const ButcherTableau& bosh3_tableau();
const ButcherTableau& dopri5_tableau();
const ButcherTableau& tsit5_tableau();
const ButcherTableau& dopri8_tableau();

// The matrix a as papers print it: row i lists a_i0 .. a_i(i-1) (row 0 is empty). Returns the
// s x s row-major matrix ButcherTableau::a stores, s = rows.size(), zero on and above the
// diagonal. A row that is too long lands on the diagonal and validate() rejects it; one that is
// too short breaks its row sum, which validate() also rejects.
inline std::vector<double> strictly_lower(
    std::initializer_list<std::initializer_list<double>> rows) {
  const std::size_t s = rows.size();
  std::vector<double> a(s * s, 0.0);
  std::size_t i = 0;
  for (const auto& row : rows) {
    if (row.size() > s) {
      throw InvalidArgument("strictly_lower: row " + std::to_string(i) + " has " +
                            std::to_string(row.size()) + " entries but the tableau has " +
                            std::to_string(s) + " stages");
    }
    std::size_t j = 0;
    for (double value : row) a[i * s + j++] = value;
    ++i;
  }
  return a;
}

}  // namespace neuralode::ode::detail
