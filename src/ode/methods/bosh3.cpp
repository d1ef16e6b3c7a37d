// bosh3: Bogacki-Shampine 3(2), 4 stages, FSAL (3 evaluations per step), adaptive, Hermite dense
// output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& bosh3_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "bosh3";
    t.summary =
        "Bogacki-Shampine: order 3(2), 4 stages, FSAL, adaptive, cubic Hermite dense output";
    t.source =
        "Bogacki & Shampine (1989), A 3(2) pair of Runge-Kutta formulas, Appl. Math. Lett. 2(4), "
        "321-325";
    t.order = 3;
    t.embedded_order = 2;
    t.stages = 4;
    // The fourth stage is f(t + h, y_new): the last row of a is b, so validate() derives FSAL.
    t.c = {0.0, 0.5, 0.75, 1.0};
    // clang-format off
    t.a = strictly_lower({
        {},
        {0.5},
        {0.0,       0.75},
        {2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0}});
    // clang-format on
    t.b = {2.0 / 9.0, 1.0 / 3.0, 4.0 / 9.0, 0.0};
    t.bhat = {7.0 / 24.0, 1.0 / 4.0, 1.0 / 3.0, 1.0 / 8.0};
    // The pair's free third-order interpolant is exactly this cubic Hermite through y0, f0 = k_1,
    // y1 and f1 = k_4, so `own` would add nothing.
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
