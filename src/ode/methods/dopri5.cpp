// dopri5: Dormand-Prince 5(4), 7 stages, FSAL (6 evaluations per step), adaptive, with its own
// fourth-order dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& dopri5_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "dopri5";
    t.summary = "Dormand-Prince: order 5(4), 7 stages, FSAL, adaptive, own 4th-order dense output";
    t.source =
        "Dormand & Prince (1980), A family of embedded Runge-Kutta formulae, J. Comput. Appl. "
        "Math. 6(1), 19-26 (HNW I, section II.5, Table 5.2); dense output: Shampine (1986), Math. "
        "Comp. 46, as in HNW I, section II.6 and the DOPRI5 code";
    t.order = 5;
    t.embedded_order = 4;
    t.stages = 7;

    // Dormand & Prince (1980), the pair HNW I prints as DOPRI5 in section II.5 (Table 5.2).
    // Row 7 of a equals b and c_7 = 1, so validate() derives FSAL.
    t.c = {0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0};
    // clang-format off
    t.a = strictly_lower({
        {},
        {1.0 / 5.0},
        {3.0 / 40.0,        9.0 / 40.0},
        {44.0 / 45.0,      -56.0 / 15.0,       32.0 / 9.0},
        {19372.0 / 6561.0, -25360.0 / 2187.0,  64448.0 / 6561.0, -212.0 / 729.0},
        {9017.0 / 3168.0,  -355.0 / 33.0,      46732.0 / 5247.0,  49.0 / 176.0,  -5103.0 / 18656.0},
        {35.0 / 384.0,      0.0,               500.0 / 1113.0,    125.0 / 192.0, -2187.0 / 6784.0,
         11.0 / 84.0}});
    t.b = {35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0, 0.0};
    t.bhat = {5179.0 / 57600.0, 0.0, 7571.0 / 16695.0, 393.0 / 640.0, -92097.0 / 339200.0,
              187.0 / 2100.0, 1.0 / 40.0};
    // clang-format on

    // Continuous extension of order 4 (Shampine 1986; HNW I, section II.6, and subroutine CONTD5
    // of the DOPRI5 code). With theta1 = 1 - theta it reads
    //   y(t + theta h) = y0 + theta ydiff + theta theta1 bspl + theta^2 theta1 r4
    //                    + theta^2 theta1^2 h sum_i d_i k_i,
    //   ydiff = h sum_i b_i k_i,  bspl = h k_1 - ydiff,  r4 = ydiff - h k_7 - bspl,
    // with k_7 = f(t + h, y_new) (FSAL) and
    //   d = (-12715105075/11282082432, 0, 87487479700/32700410799, -10690763975/1880347072,
    //        701980252875/199316789632, -1453857185/822651844, 69997945/29380423).
    // So b_i(theta) = theta b_i + theta theta1 ([i=1] - b_i)
    //                 + theta^2 theta1 (2 b_i - [i=1] - [i=7]) + theta^2 theta1^2 d_i.
    // We expanded these in powers of theta in exact rational arithmetic (Python fractions and
    // sympy); each row below holds the coefficients of theta^1..theta^4 of one b_i(theta), each a
    // quotient of integers below 2^53, so the division rounds once, correctly.
    t.interpolation = ButcherTableau::Interpolation::own;
    t.dense_degree = 4;
    t.dense_order = 4;
    // clang-format off
    t.dense = {
        // b_1
        1.0,                              -8048581381.0 / 2820520608.0,
        8663915743.0 / 2820520608.0,      -12715105075.0 / 11282082432.0,
        // b_2
        0.0,                               0.0,
        0.0,                               0.0,
        // b_3
        0.0,                               131558114200.0 / 32700410799.0,
        -68118460800.0 / 10900136933.0,    87487479700.0 / 32700410799.0,
        // b_4
        0.0,                              -1754552775.0 / 470086768.0,
        14199869525.0 / 1410260304.0,     -10690763975.0 / 1880347072.0,
        // b_5
        0.0,                               127303824393.0 / 49829197408.0,
        -318862633887.0 / 49829197408.0,   701980252875.0 / 199316789632.0,
        // b_6
        0.0,                              -282668133.0 / 205662961.0,
        2019193451.0 / 616988883.0,       -1453857185.0 / 822651844.0,
        // b_7
        0.0,                               40617522.0 / 29380423.0,
        -110615467.0 / 29380423.0,         69997945.0 / 29380423.0};
    // clang-format on
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
