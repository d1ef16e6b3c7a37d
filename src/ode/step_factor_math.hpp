// log and exp for the step-size controller: inline, table-driven, short dependency chains.
//
// The controller computes one log and one exp per accepted step (odeint.cpp, run_adaptive), and
// the next step cannot start before they finish: every stage input needs the new h. So their
// *latency* is paid on every step. libm's logf and expf (called through the PLT) were ~8 % of
// a dopri5 step at 64 components in perf; a table-free version (a division and two degree-10
// polynomials in double) was worse, ~50 ns per step. These take the approach of table-driven
// libm implementations (Tang, "Table-driven implementation of the exponential function in IEEE
// floating-point arithmetic", ACM TOMS 15(2), 1989, and the logarithm analogue): a table lookup
// leaves an argument so small that a degree-4 polynomial suffices, with no division. Plain
// expressions rather than std::fma: the compiler fuses them where the target has FMA, and
// std::fma without it is a slow library call.
//
// Accuracy: log to 6e-9 absolute, exp to 2e-12 relative (checked against std::log and std::exp
// in tests/ode/step_kernels_test.cpp). A step-size factor needs far less (it is a heuristic
// clamped to [dfactor, ifactor]); this is float precision with margin.
//
//   log x = e ln 2 + log c_i + log1p(r),  x = m 2^e, m in [1, 2), i = the top 4 bits of m's
//           fraction, c_i the centre of m's 1/16-wide interval, r = m / c_i - 1 (|r| <= 1/32):
//           log1p(r) to degree 4 leaves |r|^5 / 5 <= 6e-9.
//   exp x = 2^k 2^(j/32) e^r,  n = round(32 x / ln 2) = 32 k + j, r = x - n ln 2 / 32
//           (|r| <= ln 2 / 64 = 0.0109): e^r to degree 4 leaves r^5 / 120 < 1.3e-12.
#pragma once

#include <bit>
#include <cstdint>

namespace neuralode::ode::step_kernels {

// 2^(j/32), j = 0..31, rounded to double.
inline constexpr double kExp2Table[32] = {1.0,
                                          1.0218971486541166,
                                          1.0442737824274138,
                                          1.0671404006768237,
                                          1.0905077326652577,
                                          1.1143867425958924,
                                          1.1387886347566916,
                                          1.1637248587775775,
                                          1.189207115002721,
                                          1.215247359980469,
                                          1.241857812073484,
                                          1.2690509571917332,
                                          1.2968395546510096,
                                          1.3252366431597413,
                                          1.3542555469368927,
                                          1.383909881963832,
                                          1.4142135623730951,
                                          1.4451808069770467,
                                          1.4768261459394993,
                                          1.5091644275934228,
                                          1.5422108254079407,
                                          1.5759808451078865,
                                          1.6104903319492543,
                                          1.645755478153965,
                                          1.681792830507429,
                                          1.718619298122478,
                                          1.7562521603732995,
                                          1.7947090750031072,
                                          1.8340080864093424,
                                          1.8741676341103,
                                          1.9152065613971474,
                                          1.9571441241754002};

// 1 / c_i rounded to double, c_i = 1 + (i + 1/2) / 16, and -log of that rounded value (so that
// log m = log1p(m * inv_c - 1) - log(inv_c) holds for the value actually used), i = 0..15.
inline constexpr double kLogInvCentre[16] = {
    0.9696969696969697, 0.9142857142857143, 0.8648648648648649, 0.8205128205128205,
    0.7804878048780488, 0.7441860465116279, 0.7111111111111111, 0.6808510638297872,
    0.6530612244897959, 0.6274509803921569, 0.6037735849056604, 0.5818181818181818,
    0.5614035087719298, 0.5423728813559322, 0.5245901639344263, 0.5079365079365079};
inline constexpr double kLogCentre[16] = {
    0.03077165866675366, 0.08961215868968717, 0.14518200984449783, 0.19782574332991992,
    0.2478361639045812,  0.2954642128938359,  0.3409265869705932,  0.38441169891033206,
    0.42608439531090014, 0.46608972992459924, 0.5045560107523953,  0.5415972824327444,
    0.5773153650348236,  0.6118015411059929,  0.6451379613735847,  0.6773988235918061};

inline constexpr double kLn2 = 0.6931471805599453;

// Natural log of x for x in [1e-300, 1e300]; x outside (0, a denormal, +inf) is clamped into it
// first. The controller passes an error norm that may be 0 or tiny: its log is then -690.8,
// which any factor clamp treats as it would -inf.
inline double controller_log(double x) {
  x = x < 1e-300 ? 1e-300 : (x > 1e300 ? 1e300 : x);
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
  const int e = static_cast<int>(bits >> 52) - 1023;  // x > 0: no sign bit
  const auto i = static_cast<unsigned>(bits >> 48) & 15u;
  const double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
  const double r = m * kLogInvCentre[i] - 1.0;
  // log1p(r) = r - r^2/2 + r^3/3 - r^4/4, grouped so that the chain is three operations long.
  const double r2 = r * r;
  const double low = r2 * (r * (1.0 / 3) - 0.5) + r;
  return (r2 * r2 * -0.25 + low) + (e * kLn2 + kLogCentre[i]);
}

// e^x for x in [-700, 700]; x outside is clamped into it (e^700 ~ 1e304: any factor clamp then
// treats it as it would +inf).
inline double controller_exp(double x) {
  x = x < -700.0 ? -700.0 : (x > 700.0 ? 700.0 : x);
  // n = round(32 x / ln 2) by the shifter trick: adding 1.5 * 2^52 leaves n in the low bits.
  constexpr double kShift = 0x1.8p52, k32OverLn2 = 46.16624130844683, kLn2Over32 = kLn2 / 32;
  const double shifted = x * k32OverLn2 + kShift;
  const double n = shifted - kShift;
  const auto n_int = static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(shifted) -
                                               std::bit_cast<std::uint64_t>(kShift));
  const double r = x - n * kLn2Over32;
  // e^r = 1 + r + r^2/2 + r^3/6 + r^4/24, grouped for a short chain.
  const double r2 = r * r;
  const double poly = r2 * (r2 * (1.0 / 24) + (r * (1.0 / 6) + 0.5)) + (1.0 + r);
  // 2^k 2^(j/32): k added to the table entry's exponent bits (|n| <= 32320, so the result's
  // exponent stays in [13, 2033]: normal).
  const std::uint64_t scale_bits = std::bit_cast<std::uint64_t>(kExp2Table[n_int & 31]) +
                                   (static_cast<std::uint64_t>(n_int >> 5) << 52);
  return poly * std::bit_cast<double>(scale_bits);
}

}  // namespace neuralode::ode::step_kernels
