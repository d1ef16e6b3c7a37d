// euler: the explicit Euler method, order 1, 1 stage, fixed step, Hermite dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& euler_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "euler";
    t.summary = "explicit Euler: order 1, 1 stage, fixed step, cubic Hermite dense output";
    t.source = "Euler (1768), Institutiones calculi integralis; HNW I, section II.1";
    t.order = 1;
    t.embedded_order = 0;
    t.stages = 1;
    // y_new = y + h f(t, y).
    t.c = {0.0};
    t.a = {0.0};
    t.b = {1.0};
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    // The Hermite cubic is third order as an interpolant, but between steps it is no more accurate
    // than the step itself: first order here.
    t.dense_order = 3;
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
