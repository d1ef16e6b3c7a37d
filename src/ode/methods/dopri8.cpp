// dopri8: Dormand-Prince 8(5,3) as in Hairer's DOP853 code, order 8 with an embedded fifth-order
// solution, 12 stages, adaptive, cubic Hermite dense output.
#include "ode/methods/methods.hpp"

#include <cstddef>

namespace neuralode::ode::detail {

const ButcherTableau& dopri8_tableau() {
  static const ButcherTableau tableau = [] {
    ButcherTableau t;
    t.name = "dopri8";
    t.summary =
        "Dormand-Prince 8(5,3) (DOP853): order 8(5), 12 stages, adaptive, cubic Hermite dense "
        "output";
    t.source =
        "the DOP853 code of Hairer & Wanner, an 8th-order Dormand-Prince method with 5th- and "
        "3rd-order error estimators, described in HNW I (2nd ed., 1993); constants as in the "
        "code's source";
    t.order = 8;
    t.embedded_order = 5;
    t.stages = 12;

    // The constants of the DOP853 code (to 30 digits; each literal rounds once to double). Stages
    // 14-16 of the code serve only its 7th-order dense output and are left out.
    // clang-format off
    t.c = {0.0,
           0.526001519587677318785587544488e-01,
           0.789002279381515978178381316732e-01,
           0.118350341907227396726757197510e+00,
           0.281649658092772603273242802490e+00,
           0.333333333333333333333333333333e+00,
           0.25e+00,
           0.307692307692307692307692307692e+00,
           0.651282051282051282051282051282e+00,
           0.6e+00,
           0.857142857142857142857142857142e+00,
           1.0};
    t.a = strictly_lower({
        {},
        // row 2
        {5.26001519587677318785587544488e-2},
        // row 3
        {1.97250569845378994544595329183e-2, 5.91751709536136983633785987549e-2},
        // row 4
        {2.95875854768068491816892993775e-2, 0.0, 8.87627564304205475450678981324e-2},
        // row 5
        {2.41365134159266685502369798665e-1, 0.0, -8.84549479328286085344864962717e-1,
         9.24834003261792003115737966543e-1},
        // row 6
        {3.7037037037037037037037037037e-2, 0.0, 0.0, 1.70828608729473871279604482173e-1,
         1.25467687566822425016691814123e-1},
        // row 7
        {3.7109375e-2, 0.0, 0.0, 1.70252211019544039314978060272e-1,
         6.02165389804559606850219397283e-2, -1.7578125e-2},
        // row 8
        {3.70920001185047927108779319836e-2, 0.0, 0.0, 1.70383925712239993810214054705e-1,
         1.07262030446373284651809199168e-1, -1.53194377486244017527936158236e-2,
         8.27378916381402288758473766002e-3},
        // row 9
        {6.24110958716075717114429577812e-1, 0.0, 0.0, -3.36089262944694129406857109825e0,
         -8.68219346841726006818189891453e-1, 2.75920996994467083049415600797e1,
         2.01540675504778934086186788979e1, -4.34898841810699588477366255144e1},
        // row 10
        {4.77662536438264365890433908527e-1, 0.0, 0.0, -2.48811461997166764192642586468e0,
         -5.90290826836842996371446475743e-1, 2.12300514481811942347288949897e1,
         1.52792336328824235832596922938e1, -3.32882109689848629194453265587e1,
         -2.03312017085086261358222928593e-2},
        // row 11
        {-9.3714243008598732571704021658e-1, 0.0, 0.0, 5.18637242884406370830023853209e0,
         1.09143734899672957818500254654e0, -8.14978701074692612513997267357e0,
         -1.85200656599969598641566180701e1, 2.27394870993505042818970056734e1,
         2.49360555267965238987089396762e0, -3.0467644718982195003823669022e0},
        // row 12
        {2.27331014751653820792359768449e0, 0.0, 0.0, -1.05344954667372501984066689879e1,
         -2.00087205822486249909675718444e0, -1.79589318631187989172765950534e1,
         2.79488845294199600508499808837e1, -2.85899827713502369474065508674e0,
         -8.87285693353062954433549289258e0, 1.23605671757943030647266201528e1,
         6.43392746015763530355970484046e-1}});
    t.b = {5.42937341165687622380535766363e-2, 0.0, 0.0, 0.0, 0.0,
           4.45031289275240888144113950566e0,
           1.89151789931450038304281599044e0,
           -5.8012039600105847814672114227e0,
           3.1116436695781989440891606237e-1,
           -1.52160949662516078556178806805e-1,
           2.01365400804030348374776537501e-1,
           4.47106157277725905176885569043e-2};
    // DOP853's fifth-order error coefficients er1, er6..er12: y_8 - y_5 = h sum_i e5_i k_i.
    const double e5[12] = {0.1312004499419488073250102996e-01, 0.0, 0.0, 0.0, 0.0,
                           -0.1225156446376204440720569753e+01,
                           -0.4957589496572501915214079952e+00,
                           0.1664377182454986536961530415e+01,
                           -0.3503288487499736816886487290e+00,
                           0.3341791187130174790297318841e+00,
                           0.8192320648511571246570742613e-01,
                           -0.2235530786388629525884427845e-01};
    // clang-format on

    // Error estimate: DOP853 combines a fifth-order estimate (er) and a third-order one (bhh1..3)
    // into err5^2 / sqrt(err5^2 + 0.01 err3^2). ButcherTableau has room for one embedded
    // solution, so we keep the fifth-order one, bhat = b - e5, and the shared controller sees
    // err = h sum_i e5_i k_i with embedded_order 5. This is a plain 8(5) pair, not DOP853's exact
    // controller; expect somewhat different step sequences than the Fortran code.
    t.bhat.resize(12);
    for (std::size_t i = 0; i < 12; ++i) t.bhat[i] = t.b[i] - e5[i];

    // c_12 = 1 but row 12 of a differs from b: not FSAL by structure. (DOP853 evaluates
    // f(t + h, y_new) after the step as the next k_1; the shared Hermite interpolation reuses that
    // same value.)
    t.interpolation = ButcherTableau::Interpolation::hermite3;
    t.dense_order = 3;
    t.validate();
    return t;
  }();
  return tableau;
}

}  // namespace neuralode::ode::detail
