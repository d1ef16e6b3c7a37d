// The solver's inner kernels (src/ode): the stage combination over every state size, and the
// controller's log and exp against the standard library.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "ode/error_norm.hpp"
#include "ode/linear_combination.hpp"
#include "ode/step_factor_math.hpp"

namespace neuralode::ode::step_kernels {
namespace {

// Sizes up to three chunks and half a pack more reach every chunk count and every partial pack.
template <class Scalar>
Index largest_size() {
  constexpr Index W = simd::Pack<Scalar>::width;
  return 3 * kChunkPacks * W + W / 2 + 1;
}

// n values uniform in [-scale, scale].
template <class Scalar>
std::vector<Scalar> random_values(std::mt19937& rng, Index n, double scale) {
  std::uniform_real_distribution<double> u(-scale, scale);
  std::vector<Scalar> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<Scalar>(u(rng));
  return v;
}

// linear_combination against a scalar reference, for every n up to three chunks plus a partial
// pack, 0..6 terms, with and without a base, with rows offset from out. Also checks that nothing
// outside out[0, n) is written (the masked last pack).
//
// Tolerance: both compute base + sum_j c_j r_j with t + 1 <= 7 roundings in the same order; the
// reference uses std::fma as the AVX-512 kernel does, so there they agree exactly. Where the
// packs are not AVX-512 the compiler may or may not fuse, and each result is within
// gamma_{t+1} sum |terms| of the exact sum (Higham, Accuracy and Stability, (3.4)), so within
// twice that of each other.
template <class Scalar>
void check_all_sizes() {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const Index max_n = largest_size<Scalar>();
  const Index offset_max = 5, guard = 2 * simd::Pack<Scalar>::width;
  std::vector<std::vector<Scalar>> data;
  for (int j = 0; j < 6; ++j) data.push_back(random_values<Scalar>(rng, max_n + offset_max, 1));
  const std::vector<Scalar> base = random_values<Scalar>(rng, max_n, 1);
  const Scalar sentinel = Scalar(12345);
  const double eps = std::numeric_limits<Scalar>::epsilon() / 2;
  for (Index n = 1; n <= max_n; ++n)
    for (int terms = 0; terms <= 6; ++terms)
      for (const bool with_base : {false, true})
        for (const Index offset : {Index(0), offset_max}) {
          const Scalar* rows[6];  // offset: rows not aligned like out
          Scalar coef[6];
          for (int j = 0; j < terms; ++j) {
            rows[j] = data[static_cast<std::size_t>((j * 5 + 1) % 6)].data() + offset;
            coef[j] = static_cast<Scalar>(u(rng));
          }
          std::vector<Scalar> out(static_cast<std::size_t>(n + 2 * guard), sentinel);
          Scalar* o = out.data() + guard;
          linear_combination(o, with_base ? base.data() : nullptr, rows, coef, terms, n);
          for (Index m = 0; m < n; ++m) {
            Scalar want = with_base ? base[m] : Scalar(0);
            double magnitude = std::abs(static_cast<double>(want));
            for (int j = 0; j < terms; ++j) {
              want = std::fma(coef[j], rows[j][m], want);
              magnitude += std::abs(static_cast<double>(coef[j] * rows[j][m]));
            }
            const double bound = 2 * (terms + 1) * eps / (1 - (terms + 1) * eps) * magnitude;
            ASSERT_LE(std::abs(static_cast<double>(o[m] - want)), bound)
                << "n " << n << " component " << m << " terms " << terms;
          }
          for (Index g = 0; g < guard; ++g) {
            ASSERT_EQ(out[g], sentinel) << "wrote before out, n " << n;
            ASSERT_EQ(o[n + g], sentinel) << "wrote past out[n), n " << n;
          }
        }
}

TEST(LinearCombination, EverySizeMatchesTheScalarSumAndWritesOnlyItsOutputDouble) {
  check_all_sizes<double>();
}
TEST(LinearCombination, EverySizeMatchesTheScalarSumAndWritesOnlyItsOutputFloat) {
  check_all_sizes<float>();
}

// In place: out = base is allowed (an FSAL stage input may be formed where y_new lives).
TEST(LinearCombination, OutMayBeTheBase) {
  std::vector<double> y(37), k(37);
  for (int i = 0; i < 37; ++i) y[i] = i, k[i] = 1.0 / (i + 1);
  const double* rows[1] = {k.data()};
  const double coef[1] = {2.0};
  linear_combination(y.data(), y.data(), rows, coef, 1, 37);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(y[i], std::fma(2.0, 1.0 / (i + 1), double(i)));
}

// error_sum_of_squares against the same sum formed component by component in double, for every
// n up to three chunks, each combination of per-component atol and weights, reciprocal estimate
// and exact division, with components of y0/y1 spanning 0 and large magnitudes.
//
// Tolerance: the reference takes the error combination from linear_combination (checked above),
// which the norm kernel shares, so both start from the same e: with cancellation in e, any other
// reference could differ from it by far more than e's own rounding. Each squared term then
// takes ~5 more roundings and, with the estimate, a reciprocal good to ~2 ulps (one Newton step
// in float, two in double: simd.hpp); the n positive terms are summed in a different order,
// which adds at most n eps relative. So |kernel - reference| <= (18 + n) eps sum.
template <class Scalar>
void check_error_norm() {
  std::mt19937 rng(11);
  const Index max_n = largest_size<Scalar>();
  auto random_vector = [&](double scale) { return random_values<Scalar>(rng, max_n, scale); };
  std::vector<std::vector<Scalar>> k = {random_vector(1), random_vector(3), random_vector(0.5)};
  std::vector<Scalar> y0 = random_vector(10), y1 = random_vector(1e3), atol = random_vector(1e-3),
                      w = random_vector(1);
  for (auto& a : atol) a = std::abs(a) + Scalar(1e-6);
  y0[3] = y1[3] = 0;  // scale = atol exactly
  const Scalar* rows[3] = {k[0].data(), k[1].data(), k[2].data()};
  const Scalar coef[3] = {Scalar(0.25), Scalar(-1.5), Scalar(1e-2)};
  const double eps = std::numeric_limits<Scalar>::epsilon() / 2;
  for (Index n = 1; n <= max_n; ++n)
    for (int flags = 0; flags < 8; ++flags) {
      const bool per_atol = flags & 1, weights = flags & 2;
      NormScale<Scalar> s{Scalar(1e-3), Scalar(1e-4), per_atol ? atol.data() : nullptr,
                          weights ? w.data() : nullptr, (flags & 4) != 0};
      Scalar got;
      if (per_atol && weights)
        got = error_sum_of_squares<true, true>(rows, coef, 3, n, y0.data(), y1.data(), s);
      else if (per_atol)
        got = error_sum_of_squares<true, false>(rows, coef, 3, n, y0.data(), y1.data(), s);
      else if (weights)
        got = error_sum_of_squares<false, true>(rows, coef, 3, n, y0.data(), y1.data(), s);
      else
        got = error_sum_of_squares<false, false>(rows, coef, 3, n, y0.data(), y1.data(), s);
      std::vector<Scalar> e(static_cast<std::size_t>(n));
      linear_combination(e.data(), static_cast<const Scalar*>(nullptr), rows, coef, 3, n);
      double want = 0;
      for (Index m = 0; m < n; ++m) {
        const double scale = (per_atol ? double(atol[m]) : 1e-4) +
                             1e-3 * std::max(std::abs(double(y0[m])), std::abs(double(y1[m])));
        const double r = double(e[m]) / scale * (weights ? double(w[m]) : 1.0);
        want += r * r;
      }
      ASSERT_NEAR(double(got), want, (18 + n) * eps * want) << "n " << n << " flags " << flags;
    }
}

TEST(ErrorNorm, EverySizeAndOptionMatchesTheComponentwiseSumDouble) {
  check_error_norm<double>();
}
TEST(ErrorNorm, EverySizeAndOptionMatchesTheComponentwiseSumFloat) {
  check_error_norm<float>();
}

// The tables are the values their comments state, to the last bit or one ulp (the rounding of
// the reference functions themselves).
TEST(ControllerMath, TablesHoldTheirStatedValues) {
  for (int j = 0; j < 32; ++j)
    EXPECT_NEAR(kExp2Table[j], std::exp2(j / 32.0), 2.3e-16 * kExp2Table[j]) << j;
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(kLogInvCentre[i], 1.0 / (1.0 + (i + 0.5) / 16)) << i;
    EXPECT_NEAR(kLogCentre[i], -std::log(kLogInvCentre[i]), 2.3e-16) << i;
  }
}

// log: absolute error <= |r|^5/5 <= (1/32)^5/5 = 6.0e-9 from the truncated series, plus
// rounding: ~10 roundings of values below 700 in magnitude, < 2e-12. Sampled log-uniformly over
// the whole range, plus the interval edges of the table (m = 1 + i/16) and 1 itself.
TEST(ControllerMath, LogIsAccurateTo6e9AbsoluteOverItsRange) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> exponent(-300.0, 300.0);
  std::vector<double> xs = {1.0, 2.0, 0.5, 1e-300, 1e300, std::nextafter(1.0, 0.0)};
  for (int i = 0; i <= 16; ++i) {
    xs.push_back(1.0 + i / 16.0);
    xs.push_back(std::nextafter(1.0 + i / 16.0, 0.0));
  }
  for (int s = 0; s < 20000; ++s) xs.push_back(std::pow(10.0, exponent(rng)));
  for (const double x : xs)
    ASSERT_NEAR(controller_log(x), std::log(x), 6.0e-9 + 2e-12) << "x = " << x;
}

// Clamping: zero, denormals and +inf give the log of the range's ends (what a factor clamp
// needs), never NaN.
TEST(ControllerMath, LogClampsArgumentsOutsideItsRange) {
  EXPECT_NEAR(controller_log(0.0), std::log(1e-300), 1e-8);
  EXPECT_NEAR(controller_log(4.9e-324), std::log(1e-300), 1e-8);
  EXPECT_NEAR(controller_log(std::numeric_limits<double>::infinity()), std::log(1e300), 1e-8);
}

// exp: relative error <= r^5/120 with |r| <= ln 2 / 64 (1.3e-12) from the polynomial, plus the
// reduction's rounding: n ln2/32 with |n| <= 32320 is off by < 1e-13 absolute (ln 2's own
// rounding and the product's), so < 2e-12 relative in all.
TEST(ControllerMath, ExpIsAccurateTo2e12RelativeOverItsRange) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> x_of(-700.0, 700.0);
  std::vector<double> xs = {0.0, 1.0, -1.0, 700.0, -700.0, std::log(2.0), 1e-20};
  for (int s = 0; s < 20000; ++s) xs.push_back(x_of(rng));
  for (int s = 0; s < 2000; ++s) xs.push_back(x_of(rng) / 700.0);  // the controller's usual range
  for (const double x : xs) {
    const double want = std::exp(x);
    ASSERT_LE(std::abs(controller_exp(x) - want), 2e-12 * want) << "x = " << x;
  }
  EXPECT_EQ(controller_exp(1e6), controller_exp(700.0));
  EXPECT_EQ(controller_exp(-1e6), controller_exp(-700.0));
}

}  // namespace
}  // namespace neuralode::ode::step_kernels
