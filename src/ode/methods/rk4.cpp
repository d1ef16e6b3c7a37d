// rk4: the classical fourth-order Runge-Kutta method, 4 stages, fixed step, Hermite dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& rk4_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "rk4";
    t.summary = "classical Runge-Kutta: order 4, 4 stages, fixed step, cubic Hermite dense output";
    t.source = "Kutta (1901), Z. Math. Phys. 46; HNW I, section II.1 (Kutta's classical method)";
    t.order = 4;
    t.embedded_order = 0;
    t.stages = 4;
    t.c = {0.0, 0.5, 0.5, 1.0};
    // clang-format off
    t.a = strictly_lower({
        {},
        {0.5},
        {0.0, 0.5},
        {0.0, 0.0, 1.0}});
    // clang-format on
    t.b = {1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0};
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
