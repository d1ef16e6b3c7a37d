// heun2: Heun's second-order method (explicit trapezoid rule), 2 stages, fixed step, Hermite dense
// output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& heun2_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "heun2";
    t.summary =
        "Heun (explicit trapezoid): order 2, 2 stages, fixed step, cubic Hermite dense output";
    t.source = "Heun (1900), Z. Math. Phys. 45; HNW I, section II.1";
    t.order = 2;
    t.embedded_order = 0;
    t.stages = 2;
    // An Euler predictor to t + h, then the trapezoid rule on both slopes.
    t.c = {0.0, 1.0};
    t.a = strictly_lower({{}, {1.0}});
    t.b = {0.5, 0.5};
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;  // step-limited to second order between steps
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
