// Parameter initialisation: PyTorch's defaults and normal(0, sigma), from a seeded generator whose
// streams are the same on every platform (the standard distributions are not, so we do our own).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "neuralode/nn/layer.hpp"
#include "neuralode/nn/vector_field.hpp"

namespace neuralode::nn {

// std::mt19937_64 (its output sequence is fixed by the standard) with portable conversions:
// uniform() uses the top 53 bits; normal() is Box-Muller.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  double uniform();                      // [0, 1)
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                       // N(0, 1)
  std::uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// w ~ U(-bound, bound), bound = 1/sqrt(fan_in): what PyTorch's kaiming_uniform_(a = sqrt(5)) gives
// (gain sqrt(2/(1+a^2)) = sqrt(1/3), bound = gain*sqrt(3/fan_in)), as nn.Linear and nn.Conv2d use.
template <class Scalar>
void kaiming_uniform(std::span<Scalar> w, Index fan_in, Rng& rng);
// v ~ U(lo, hi).
template <class Scalar>
void uniform(std::span<Scalar> v, double lo, double hi, Rng& rng);
// v ~ N(0, sigma^2).
template <class Scalar>
void normal(std::span<Scalar> v, double sigma, Rng& rng);

// PyTorch's default initialisation, applied view by view in layout order with one Rng(seed):
//  - "...weight" of rank >= 2: kaiming_uniform with fan_in = product of shape[1:] (in, or
//    in*kh*kw for convolutions).
//  - "...bias": U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the fan_in of the weight of the same prefix
//    ("0.bias" -> "0.weight"); PyTorch's rule for Linear and Conv2d.
//  - "...weight" of rank 1 (normalisation scales, GroupNorm): 1, and its bias 0.
// Throws InvalidArgument for a view it has no rule for (naming it). Reproducible for a seed.
template <class Scalar>
void init_default(std::span<Scalar> params, const std::vector<ParamView>& views,
                  std::uint64_t seed);
template <class Scalar>
void init_default(VectorField<Scalar>& field, std::uint64_t seed) {
  init_default(field.params(), field.param_views(), seed);
}
// Every parameter ~ N(0, sigma^2).
template <class Scalar>
void init_normal(VectorField<Scalar>& field, double sigma, std::uint64_t seed) {
  Rng rng(seed);
  normal(field.params(), sigma, rng);
}

extern template void kaiming_uniform<float>(std::span<float>, Index, Rng&);
extern template void kaiming_uniform<double>(std::span<double>, Index, Rng&);
extern template void uniform<float>(std::span<float>, double, double, Rng&);
extern template void uniform<double>(std::span<double>, double, double, Rng&);
extern template void normal<float>(std::span<float>, double, Rng&);
extern template void normal<double>(std::span<double>, double, Rng&);
extern template void init_default<float>(std::span<float>, const std::vector<ParamView>&,
                                         std::uint64_t);
extern template void init_default<double>(std::span<double>, const std::vector<ParamView>&,
                                          std::uint64_t);

}  // namespace neuralode::nn
