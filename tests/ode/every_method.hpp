// Shared by the ODE tests that run over the method registry: gtest parameter helpers and the
// least-squares log-log slope that measures a convergence order.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "neuralode/ode/method_registry.hpp"

namespace neuralode::testing {

// Test names: the method's registry name.
inline std::string method_name(const ::testing::TestParamInfo<const ode::ButcherTableau*>& info) {
  return info.param->name;
}

// The methods with an embedded error estimate.
inline std::vector<const ode::ButcherTableau*> adaptive_methods() {
  std::vector<const ode::ButcherTableau*> out;
  for (const ode::ButcherTableau* t : ode::all_methods())
    if (t->adaptive()) out.push_back(t);
  return out;
}

// Least-squares slope of log(err) against log(h).
inline double loglog_slope(const std::vector<double>& h, const std::vector<double>& err) {
  const double n = static_cast<double>(h.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    const double x = std::log(h[i]), y = std::log(err[i]);
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

}  // namespace neuralode::testing
