// tsit5: Tsitouras 5(4), 7 stages, FSAL (6 evaluations per step), adaptive, with its own
// fourth-order dense output.
#include "ode/methods/methods.hpp"

namespace neuralode::ode::detail {

const ButcherTableau& tsit5_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "tsit5";
    t.summary = "Tsitouras: order 5(4), 7 stages, FSAL, adaptive, own 4th-order dense output";
    t.source =
        "Tsitouras (2011), Runge-Kutta pairs of order 5(4) satisfying only the first column "
        "simplifying assumption, Comput. Math. Appl. 62(2), 770-775: its coefficient table and "
        "dense output polynomials";
    t.order = 5;
    t.embedded_order = 4;
    t.stages = 7;

    // Tsitouras (2011), coefficient table. The literals carry ~21 significant digits from a
    // high-precision evaluation of the paper's formulas (as published with the Julia package
    // OrdinaryDiffEq's Tsit5 tableau), so that each rounds once to the nearest double.
    t.c = {0.0, 0.161, 0.327, 0.9, 0.98002554090450968573, 1.0, 1.0};
    // clang-format off
    t.a = strictly_lower({
        {},
        {0.161},
        {-0.00848065549235698854443, 0.335480655492356988544},
        {2.89715305710549343213,   -6.35944848997507484315,  4.36229543286958141102},
        {5.32586482843925660443,   -11.7488835640628278777,  7.4955393428898362083,
         -0.0924950663617552492565},
        {5.86145544294642002866,   -12.9209693178471092917,  8.15936789857615864318,
         -0.0715849732814009972245, -0.028269050394068382909},
        {0.0964607668180652295182,  0.01,                    0.479889650414499574775,
         1.37900857410374189319,   -3.2900695154360806799,   2.32471052409977398242}});
    // The propagated (fifth-order) solution is the paper's b row, which equals row 7 of a with
    // b_7 = 0: FSAL.
    t.b = {0.0964607668180652295182, 0.01,                    0.479889650414499574775,
           1.37900857410374189319,  -3.2900695154360806799,   2.32471052409977398242,
           0.0};
    // The embedded fourth-order weights. Careful: the row the paper prints under b-hat is not
    // b-hat but the error weights b - b-hat (implementers also report its last entry with the
    // wrong sign: b_7 - b-hat_7 = -1/66). We store b-hat itself, which sums to 1 and satisfies the
    // order-4 conditions (tests/ode/butcher_tableau_test.cpp); the error estimate is then
    // h sum_i (b_i - b-hat_i) k_i as for every other pair.
    t.bhat = {0.0946807557658394580748, 0.00918356554034325309678, 0.487770528424761570786,
              1.23429756693047898566,  -2.70771234998352545488,   1.86662841817058703575,
              1.0 / 66.0};
    // clang-format on

    // Dense output, Tsitouras (2011), after the coefficient table: b_i(theta) is printed there in
    // factored form, e.g. b_2(theta) = 0.1017 theta^2 (theta^2 - 2.1966568338249754 theta
    // + 1.2949852507374631). Below are the expanded coefficients of theta^1..theta^4, one row per
    // stage; b_2's are the exact decimals 0.1317, -0.2234, 0.1017 that its factored form rounds
    // (they give b_2(1) = 0.01 exactly). Fourth order; b_i(1) = b_i to ~1e-17 before rounding.
    t.interpolation = ButcherTableau::Interpolation::own;
    t.dense_degree = 4;
    t.dense_order = 4;
    // clang-format off
    t.dense = {
        1.0, -2.76370619727482591134,  2.91325546182191274375,  -1.0530884977290216,
        0.0,  0.1317,                 -0.2234,                   0.1017,
        0.0,  3.93029623689475152851, -5.9410338721315047347,    2.490627285651252793,
        0.0, -12.4110771669336769837,  30.3381886302823215982,  -16.54810288924490272,
        0.0,  37.509313416511039195,  -88.1789048947664011014,   47.37952196281928122,
        0.0, -27.8965262891972878059,  65.0918946747936715263,  -34.87065786149660974,
        0.0,  1.5,                    -4.0,                      2.5};
    // clang-format on
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
