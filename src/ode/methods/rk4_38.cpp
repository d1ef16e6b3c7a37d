// rk4_38: Kutta's 3/8 rule, order 4, 4 stages, fixed step, Hermite dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& rk4_38_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "rk4_38";
    t.summary = "Kutta's 3/8 rule: order 4, 4 stages, fixed step, cubic Hermite dense output";
    t.source = "Kutta (1901), Z. Math. Phys. 46; HNW I, section II.1 (the 3/8 rule)";
    t.order = 4;
    t.embedded_order = 0;
    t.stages = 4;
    // Nodes at thirds; the weights are those of Simpson's 3/8 quadrature rule.
    t.c = {0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0};
    // clang-format off
    t.a = strictly_lower({
        {},
        { 1.0 / 3.0},
        {-1.0 / 3.0,  1.0},
        { 1.0,       -1.0, 1.0}});
    // clang-format on
    t.b = {1.0 / 8.0, 3.0 / 8.0, 3.0 / 8.0, 1.0 / 8.0};
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
