// heun_euler: Heun's method with an embedded Euler step, order 2(1), 2 stages, adaptive, Hermite
// dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& heun_euler_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "heun_euler";
    t.summary = "Heun-Euler: order 2(1), 2 stages, adaptive, cubic Hermite dense output";
    t.source = "Heun (1900) with the Euler step as embedded solution; HNW I, section II.4";
    t.order = 2;
    t.embedded_order = 1;
    t.stages = 2;
    t.c = {0.0, 1.0};
    t.a = strictly_lower({{}, {1.0}});
    t.b = {0.5, 0.5};     // trapezoid (Heun), propagated
    t.bhat = {1.0, 0.0};  // explicit Euler, for the error estimate only
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;  // step-limited to second order between steps
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
