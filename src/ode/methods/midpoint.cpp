// midpoint: the explicit midpoint rule, order 2, 2 stages, fixed step, Hermite dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& midpoint_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "midpoint";
    t.summary = "explicit midpoint: order 2, 2 stages, fixed step, cubic Hermite dense output";
    t.source = "Runge (1895), Math. Ann. 46; HNW I, section II.1";
    t.order = 2;
    t.embedded_order = 0;
    t.stages = 2;
    // k_2 = f(t + h/2, y + h/2 k_1), y_new = y + h k_2.
    t.c = {0.0, 0.5};
    t.a = strictly_lower({{}, {0.5}});
    t.b = {0.0, 1.0};
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;  // step-limited to second order between steps
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
