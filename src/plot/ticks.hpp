// Tick positions and labels for figure axes: "nice" linear steps (1, 2 or 5 x 10^k) and decades
// on a log axis. Used by src/plot/figure.cpp; a header of its own so tests can check the
// arithmetic without rendering.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace neuralode::detail {

// A tick at `value`, labelled `text`, with `superscript` raised after it (decades on a log axis
// read "10" with the exponent as superscript).
struct AxisTick {
  double value = 0.0;
  std::string text;
  std::string superscript;
};

// Slack for comparisons against tick multiples, relative to the step: limits that are themselves
// multiples (0 to 1 in steps of 0.1) must keep both end ticks despite rounding in lo / step.
inline constexpr double kTickSlack = 1e-9;

// The smallest step of the form {1, 2, 5} x 10^k with (hi - lo) / step <= max_ticks - 1, so at most
// max_ticks multiples of it fall in [lo, hi]. Requires finite lo < hi and max_ticks >= 2.
inline double nice_step(double lo, double hi, int max_ticks) {
  const double raw = (hi - lo) / std::max(1, max_ticks - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * magnitude >= raw * (1.0 - kTickSlack)) return m * magnitude;
  }
  return 10.0 * magnitude;
}

// The next smaller step of the 1, 2, 5 sequence: 1 -> 0.5 -> 0.2 -> 0.1.
inline double smaller_nice_step(double step) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(step) + kTickSlack));
  const double m = step / magnitude;
  if (m > 4.0) return 2.0 * magnitude;
  if (m > 1.5) return magnitude;
  return 0.5 * magnitude;
}

// The multiples of `step` in [lo, hi]. k * step with an integer k, so 0 is exactly 0 (never -0).
// Counted with an integer: beyond 2^53 (limits like 1e17 +- 10) k += 1.0 would not advance.
inline std::vector<double> multiples_in(double lo, double hi, double step) {
  std::vector<double> out;
  const double k0 = std::ceil(lo / step - kTickSlack);
  const double k1 = std::floor(hi / step + kTickSlack);
  const double count = k1 - k0 + 1.0;
  for (long long i = 0; i < static_cast<long long>(std::clamp(count, 0.0, 1000.0)); ++i) {
    out.push_back((k0 + static_cast<double>(i)) * step + 0.0);
  }
  return out;
}

// Tick values for a linear axis over [lo, hi]: the multiples of nice_step(lo, hi, max_ticks) in
// the range. At most max_ticks values, except that the step is refined until there are at least
// two (a short range may hold only one multiple of the first step). Requires finite lo < hi.
inline std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  double step = nice_step(lo, hi, max_ticks);
  std::vector<double> ticks = multiples_in(lo, hi, step);
  // Each refinement at least halves the step, so a few dozen reach any representable range.
  for (int refinements = 0; ticks.size() < 2 && refinements < 64; ++refinements) {
    step = smaller_nice_step(step);
    ticks = multiples_in(lo, hi, step);
  }
  return ticks;
}

// "1e-05" -> "1e-5", "1e+06" -> "1e6": exponents as people write them.
inline std::string tidy_exponent(std::string s) {
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e);
  std::string exponent = s.substr(e + 1);
  bool negative = false;
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    negative = exponent[0] == '-';
    exponent.erase(0, 1);
  }
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  return mantissa + "e" + (negative ? "-" : "") + exponent;
}

// Labels for linear ticks with a common step: as many decimals as the step needs ("0.5", "1.0",
// "1.5"). Very large values or very small steps are written in scientific notation, each value
// with the significant digits the step needs ("8e5", "1.0e6", "1.2e6"), never %g's mix of
// "800000" and "1.2e+06".
inline std::vector<AxisTick> label_linear(const std::vector<double>& values) {
  std::vector<AxisTick> ticks;
  if (values.empty()) return ticks;
  double largest = 0.0;
  for (const double v : values) largest = std::max(largest, std::abs(v));
  double step = values.size() > 1 ? values[1] - values[0] : 0.0;
  if (!(step > 0.0)) step = largest > 0.0 ? largest : 1.0;  // one tick, or ticks lost to rounding
  const bool scientific = largest >= 1e6 || step < 1e-4;
  const int step_exponent = static_cast<int>(std::floor(std::log10(step) + kTickSlack));
  const int decimals = std::max(0, -step_exponent);
  for (const double v : values) {
    char buf[48];
    if (!scientific) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    } else if (std::abs(v) < 0.5 * step) {
      std::snprintf(buf, sizeof buf, "0");
    } else {
      const int exponent = static_cast<int>(std::floor(std::log10(std::abs(v)) + kTickSlack));
      std::snprintf(buf, sizeof buf, "%.*e", std::clamp(exponent - step_exponent, 0, 15), v);
    }
    ticks.push_back({v, tidy_exponent(buf), ""});
  }
  return ticks;
}

// Ticks for a log10 axis over [lo, hi] (data values, 0 < lo < hi): the decades 10^k in range,
// every stride-th one when more than max_ticks (strides align on 10^0). When the range holds
// fewer than two decades, the values {1, 2, 5} x 10^k in range if there are 2 to max_ticks of
// them, else linear nice_ticks. Decades are labelled "10" with superscript k.
inline std::vector<AxisTick> log_ticks(double lo, double hi, int max_ticks) {
  const double e0 = std::ceil(std::log10(lo) - kTickSlack);
  const double e1 = std::floor(std::log10(hi) + kTickSlack);
  const int num_decades = static_cast<int>(e1 - e0) + 1;
  std::vector<AxisTick> ticks;
  if (num_decades >= 2) {
    const int stride = (num_decades + max_ticks - 1) / std::max(1, max_ticks);
    for (double e = e0; e <= e1; e += 1.0) {
      if (static_cast<long long>(e) % stride != 0) continue;
      char exponent[16];
      std::snprintf(exponent, sizeof exponent, "%d", static_cast<int>(e));
      ticks.push_back({std::pow(10.0, e), "10", exponent});
    }
    if (ticks.size() >= 2) return ticks;
    ticks.clear();
  }
  // Fewer than two decades: 1, 2, 5 x 10^k.
  for (double e = std::floor(std::log10(lo)) - 1.0; e <= std::ceil(std::log10(hi)); e += 1.0) {
    for (const double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      if (v < lo * (1.0 - kTickSlack) || v > hi * (1.0 + kTickSlack)) continue;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", v);
      ticks.push_back({v, tidy_exponent(buf), ""});
    }
  }
  if (ticks.size() >= 2 && ticks.size() <= static_cast<std::size_t>(max_ticks)) return ticks;
  return label_linear(nice_ticks(lo, hi, max_ticks));
}

}  // namespace neuralode::detail
