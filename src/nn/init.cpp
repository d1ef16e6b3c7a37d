// Initialisation: portable uniform and normal draws and PyTorch's default rules by parameter name
// (torch/nn/modules/linear.py, reset_parameters; conv.py likewise).
#include "neuralode/nn/init.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "neuralode/error.hpp"

namespace neuralode::nn {

double Rng::uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Rng::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // Box-Muller on (0, 1]: 1 - uniform() is never 0, so the log is finite.
  const double u1 = 1.0 - uniform(), u2 = uniform();
  const double r = std::sqrt(-2.0 * std::log(u1));
  spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
  has_spare_ = true;
  return r * std::cos(2.0 * std::numbers::pi * u2);
}

template <class Scalar>
void uniform(std::span<Scalar> v, double lo, double hi, Rng& rng) {
  for (auto& x : v) x = static_cast<Scalar>(rng.uniform(lo, hi));
}

template <class Scalar>
void kaiming_uniform(std::span<Scalar> w, Index fan_in, Rng& rng) {
  if (fan_in < 1) {
    throw InvalidArgument("kaiming_uniform: fan_in = " + std::to_string(fan_in) + " must be >= 1");
  }
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  uniform(w, -bound, bound, rng);
}

template <class Scalar>
void normal(std::span<Scalar> v, double sigma, Rng& rng) {
  for (auto& x : v) x = static_cast<Scalar>(sigma * rng.normal());
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Index fan_in_of(const ParamView& w) {
  Index f = 1;
  for (std::size_t i = 1; i < w.shape.size(); ++i) f *= w.shape[i];
  return f;
}

}  // namespace

template <class Scalar>
void init_default(std::span<Scalar> params, const std::vector<ParamView>& views,
                  std::uint64_t seed) {
  Rng rng(seed);
  for (const auto& v : views) {
    if (v.offset < 0 || v.offset + v.size() > static_cast<Index>(params.size())) {
      throw InvalidArgument("init_default: view \"" + v.name + "\" [" + std::to_string(v.offset) +
                            ", " + std::to_string(v.offset + v.size()) +
                            ") lies outside the parameter vector of size " +
                            std::to_string(params.size()));
    }
    auto slice =
        params.subspan(static_cast<std::size_t>(v.offset), static_cast<std::size_t>(v.size()));
    if (ends_with(v.name, "weight")) {
      if (v.shape.size() >= 2) {
        kaiming_uniform(slice, fan_in_of(v), rng);
      } else {
        for (auto& x : slice) x = Scalar(1);
      }
      continue;
    }
    if (ends_with(v.name, "bias")) {
      const std::string weight = v.name.substr(0, v.name.size() - 4) + "weight";
      const ParamView* w = nullptr;
      for (const auto& c : views) {
        if (c.name == weight) w = &c;
      }
      if (!w) {
        throw InvalidArgument("init_default: bias \"" + v.name + "\" has no weight \"" + weight +
                              "\" to take its fan_in from; initialise it explicitly");
      }
      if (w->shape.size() >= 2) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in_of(*w)));
        uniform(slice, -bound, bound, rng);
      } else {
        for (auto& x : slice) x = Scalar(0);
      }
      continue;
    }
    throw InvalidArgument("init_default: no default rule for parameter \"" + v.name +
                          "\" (rules exist for names ending in weight or bias)");
  }
}

template void kaiming_uniform<float>(std::span<float>, Index, Rng&);
template void kaiming_uniform<double>(std::span<double>, Index, Rng&);
template void uniform<float>(std::span<float>, double, double, Rng&);
template void uniform<double>(std::span<double>, double, double, Rng&);
template void normal<float>(std::span<float>, double, Rng&);
template void normal<double>(std::span<double>, double, Rng&);
template void init_default<float>(std::span<float>, const std::vector<ParamView>&, std::uint64_t);
template void init_default<double>(std::span<double>, const std::vector<ParamView>&, std::uint64_t);

}  // namespace neuralode::nn
