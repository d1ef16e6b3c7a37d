// Element-wise activations: value, sigma' and sigma'' in one vectorised pass over the batch (Eigen
// array expressions; tanh, exp, logistic, sin, cos are SIMD in Eigen 3.4 for float).
// GCC 12 reports false "may be used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's packet math inlines them; nothing here is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "neuralode/nn/activation.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <string>
#include <type_traits>

#include "common/simd.hpp"
#include "neuralode/error.hpp"
#include "nn/detail/shapes.hpp"

namespace neuralode::nn {
namespace {

struct FnName {
  ActivationFn fn;
  const char* word;  // what users type
  const char* kind;  // kind() of the layer
};
constexpr std::array<FnName, 8> kNames{{{ActivationFn::identity, "identity", "Identity"},
                                        {ActivationFn::tanh, "tanh", "Tanh"},
                                        {ActivationFn::relu, "relu", "ReLU"},
                                        {ActivationFn::softplus, "softplus", "Softplus"},
                                        {ActivationFn::elu, "elu", "ELU"},
                                        {ActivationFn::sigmoid, "sigmoid", "Sigmoid"},
                                        {ActivationFn::sin, "sin", "Sin"},
                                        {ActivationFn::cube, "cube", "Cube"}}};

template <class Scalar>
using Arr = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
template <class Scalar>
using ConstArr = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;

// log(1 + e^x) = max(x, 0) + log1p(e^-|x|) (no overflow for large |x|). In float, log1p(u) for
// u = e^-|x| in (0, 1] is 2 atanh(s) = 2 (s + s^3/3 + ... + s^13/13), s = u / (2 + u) <= 1/3: the
// first omitted term is 2 s^15 / 15 <= 1e-8, below float's eps, and it is all multiply-adds and one
// division, where Eigen 3.4's vectorised float log1p measured ~5x slower than exp here.
template <class Scalar>
void softplus(Index n, const Scalar* xp, Scalar* yp) {
  ConstArr<Scalar> x(xp, n);
  Arr<Scalar> y(yp, n);
  if constexpr (std::is_same_v<Scalar, float>) {
    // Chunks through two fixed-size (stack) buffers so exp and the division run once per entry;
    // one Eigen expression would re-evaluate them at every use.
    constexpr Index kChunk = 512;
    Eigen::Array<float, kChunk, 1> sb, s2b;
    for (Index i = 0; i < n; i += kChunk) {
      const Index m = std::min(kChunk, n - i);
      auto s = sb.head(m);
      auto s2 = s2b.head(m);
      s = (-x.segment(i, m).abs()).exp();
      s = s / (2.0f + s);
      s2 = s.square();
      y.segment(i, m) =
          x.segment(i, m).max(0.0f) +
          2.0f * s *
              (1.0f + s2 * (1.0f / 3 +
                            s2 * (1.0f / 5 +
                                  s2 * (1.0f / 7 +
                                        s2 * (1.0f / 9 + s2 * (1.0f / 11 + s2 * (1.0f / 13)))))));
    }
  } else {
    y = x.max(Scalar(0)) + (-x.abs()).exp().log1p();
  }
}

// tanh, vectorised for double too. Eigen 3.4 vectorises tanh for float only; std::tanh costs
// ~20 ns per element here, which made it 75% of the spiral demo's time in double. For |x| < 0.625:
// x + x z P(z) / Q(z), z = x^2, with the rational approximation of the Cephes library (S. Moshier,
// tanh.c); otherwise 1 - 2 / (e^{2|x|} + 1) with Eigen's vectorised exp, the sign restored.
// Measured within 4e-16 relative of std::tanh on [1e-300, 45] and at 2.1x its speed. Works in
// blocks of at most 64 on the stack, so nothing is allocated.
template <class Scalar>
void tanh_into(Index n, const Scalar* xp, Scalar* yp) {
  if constexpr (!std::is_same_v<Scalar, double>) {
    Arr<Scalar>(yp, n) = ConstArr<Scalar>(xp, n).tanh();
  } else {
    using Block = Eigen::Array<double, Eigen::Dynamic, 1, 0, 64, 1>;
    for (Index i = 0; i < n; i += 64) {
      const Index m = std::min<Index>(64, n - i);
      const ConstArr<double> x(xp + i, m);
      const Block ax = x.abs(), z = x * x;
      const Block p = (-9.64399179425052238628E-1 * z - 9.92877231001918586564E1) * z -
                      1.61468768441708447952E3;
      const Block q = ((z + 1.12811678491632931402E2) * z + 2.23548839060100448583E3) * z +
                      4.84406305325125486048E3;
      // Each line on its own: one non-vectorised operation (sign) in an expression would send the
      // whole expression, exp included, down Eigen's scalar path.
      const Block e = (2.0 * ax.min(40.0)).exp();
      const Block large = 1.0 - 2.0 / (e + 1.0);
      const Block small = x + x * z * p / q;
      Arr<double>(yp + i, m) = (ax < 0.625).select(small, (x < 0.0).select(-large, large));
    }
  }
}

// y = tanh(x) and, if d1 is non-null, d1 = 1 - y^2 in one pass over float packs, the last one
// partial: an Eigen
// expression over a Map runs scalar code up to the first aligned element and after the last
// whole packet, which at the spiral's 20 x 50 entries was 11 % of the field's forward (perf).
inline void tanh_and_slope(Index n, const float* x, float* y, float* d1) {
  using P = simd::Pack<float>;
  const P::Reg one = P::set1(1.0f);
  Index i = 0;
  for (; i + P::width <= n; i += P::width) {
    const P::Reg t = P::tanh(P::load(x + i));
    P::store(y + i, t);
    if (d1) P::store(d1 + i, P::sub(one, P::mul(t, t)));
  }
  if (i < n) {
    const P::Reg t = P::tanh(P::load(x + i, n - i));
    P::store(y + i, t, n - i);
    if (d1) P::store(d1 + i, P::sub(one, P::mul(t, t)), n - i);
  }
}

// y = sigma(x), d1 = sigma'(x) and, if d2 is non-null, d2 = sigma''(x); n entries each. For tanh
// and sigmoid d1 may be null too (no slope wanted, as in an inference forward; d2 then null as
// well).
template <class Scalar>
void evaluate(ActivationFn fn, Index n, const Scalar* xp, Scalar* yp, Scalar* d1p, Scalar* d2p) {
  ConstArr<Scalar> x(xp, n);
  Arr<Scalar> y(yp, n), d1(d1p, n);
  const Scalar zero(0), one(1);
  switch (fn) {
    case ActivationFn::identity:
      y = x;
      d1.setOnes();
      if (d2p) Arr<Scalar>(d2p, n).setZero();
      return;
    case ActivationFn::tanh:
      if constexpr (std::is_same_v<Scalar, float>) {
        if (!d2p) return tanh_and_slope(n, xp, yp, d1p);
      }
      tanh_into<Scalar>(n, xp, yp);
      if (!d1p) return;
      d1 = one - y.square();
      if (d2p) Arr<Scalar>(d2p, n) = Scalar(-2) * y * d1;
      return;
    case ActivationFn::relu:
      y = x.max(zero);
      d1 = (x > zero).template cast<Scalar>();
      if (d2p) Arr<Scalar>(d2p, n).setZero();
      return;
    case ActivationFn::softplus:
      softplus<Scalar>(n, xp, yp);
      d1 = x.logistic();
      if (d2p) Arr<Scalar>(d2p, n) = d1 * (one - d1);
      return;
    case ActivationFn::elu:
      // e^min(x,0): the exponential of the branch not taken never overflows.
      d1 = x.min(zero).exp();
      if (d2p) Arr<Scalar>(d2p, n) = (x > zero).select(zero, d1);
      y = (x > zero).select(x, d1 - one);
      d1 = (x > zero).select(one, d1);
      return;
    case ActivationFn::sigmoid:
      y = x.logistic();
      if (!d1p) return;
      d1 = y * (one - y);
      if (d2p) Arr<Scalar>(d2p, n) = d1 * (one - Scalar(2) * y);
      return;
    case ActivationFn::sin:
      y = x.sin();
      d1 = x.cos();
      if (d2p) Arr<Scalar>(d2p, n) = -y;
      return;
    case ActivationFn::cube:
      d1 = x.square();
      y = d1 * x;
      d1 *= Scalar(3);
      if (d2p) Arr<Scalar>(d2p, n) = Scalar(6) * x;
      return;
  }
}

}  // namespace

std::string to_string(ActivationFn fn) {
  for (const auto& n : kNames) {
    if (n.fn == fn) return n.word;
  }
  return "?";
}

ActivationFn parse_activation_fn(std::string_view word) {
  std::string accepted;
  for (const auto& n : kNames) {
    if (word == n.word) return n.fn;
    accepted += accepted.empty() ? "" : ", ";
    accepted += n.word;
  }
  throw InvalidArgument("parse_activation_fn: unknown activation \"" + std::string(word) +
                        "\"; accepted: " + accepted);
}

template <class Scalar>
Activation<Scalar>::Activation(ActivationFn fn, Index features) : fn_(fn), features_(features) {
  detail::require_positive("Activation", "features", features);
}

template <class Scalar>
std::string Activation<Scalar>::kind() const {
  for (const auto& n : kNames) {
    if (n.fn == fn_) return n.kind;
  }
  return "?";
}

// forward computes sigma' only for tanh and sigmoid, where it comes nearly free from y
// (1 - y^2, y (1 - y)), and only for training (a context to fill): the others compute sigma'(x) in
// backward from x, so a forward-only call (the solver's rhs, the common case) does not pay for it,
// and without backward to serve tanh and sigmoid skip sigma' too (at the spiral's batch 512 its
// store stream was ~10 % of the field's forward).
template <class Scalar>
Index Activation<Scalar>::context_size(Index batch) const {
  const bool keeps_slope = fn_ == ActivationFn::tanh || fn_ == ActivationFn::sigmoid;
  return keeps_slope ? batch * features_ : 0;
}

template <class Scalar>
void Activation<Scalar>::forward(Time<Scalar>, ConstMatrixView<Scalar> x, MatrixView<Scalar> y,
                                 Scalar* ctx) {
  assert(x.cols() == features_ && y.rows() == x.rows() && y.cols() == features_);
  const Index n = x.size();
  ConstArr<Scalar> xa(x.data(), n);
  Arr<Scalar> ya(y.data(), n);
  switch (fn_) {
    case ActivationFn::tanh:
    case ActivationFn::sigmoid:
      evaluate<Scalar>(fn_, n, x.data(), y.data(), ctx, nullptr);
      return;
    case ActivationFn::identity:
      ya = xa;
      return;
    case ActivationFn::relu:
      ya = xa.max(Scalar(0));
      return;
    case ActivationFn::softplus:
      softplus<Scalar>(n, x.data(), y.data());
      return;
    case ActivationFn::elu:
      ya = (xa > Scalar(0)).select(xa, xa.min(Scalar(0)).exp() - Scalar(1));
      return;
    case ActivationFn::sin:
      ya = xa.sin();
      return;
    case ActivationFn::cube:
      ya = xa.square() * xa;
      return;
  }
}

template <class Scalar>
void Activation<Scalar>::backward(Time<Scalar>, ConstMatrixView<Scalar> xm, const Scalar* ctx,
                                  ConstMatrixView<Scalar> y_bar, MatrixView<Scalar> x_bar, Scalar*,
                                  Scalar*) {
  assert(xm.cols() == features_ && y_bar.rows() == xm.rows() && x_bar.rows() == xm.rows());
  const Index n = xm.size();
  ConstArr<Scalar> x(xm.data(), n), yb(y_bar.data(), n);
  Arr<Scalar> xb(x_bar.data(), n);
  const Scalar zero(0);
  switch (fn_) {
    case ActivationFn::tanh:
    case ActivationFn::sigmoid:
      assert(ctx &&
             "Activation::backward: tanh and sigmoid need the context of a training forward");
      xb = yb * ConstArr<Scalar>(ctx, n);
      return;
    case ActivationFn::identity:
      xb = yb;
      return;
    case ActivationFn::relu:
      xb = (x > zero).select(yb, zero);
      return;
    case ActivationFn::softplus:
      xb = yb * x.logistic();
      return;
    case ActivationFn::elu:
      xb = (x > zero).select(yb, yb * x.min(zero).exp());
      return;
    case ActivationFn::sin:
      xb = yb * x.cos();
      return;
    case ActivationFn::cube:
      xb = Scalar(3) * yb * x.square();
      return;
  }
}

// Tangent context: sigma'(x), then sigma''(x).
template <class Scalar>
void Activation<Scalar>::forward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                         ConstMatrixView<Scalar> x_dot, MatrixView<Scalar> y,
                                         MatrixView<Scalar> y_dot, Scalar* ctx) {
  assert(ctx && x.cols() == features_ && x_dot.rows() == x.rows() && y_dot.rows() == x.rows());
  const Index n = x.size();
  Scalar* d1 = ctx;
  Scalar* d2 = ctx + n;
  evaluate<Scalar>(fn_, n, x.data(), y.data(), d1, d2);
  y_dot.array() = ConstMatrixView<Scalar>(d1, x.rows(), features_).array() * x_dot.array();
}

template <class Scalar>
void Activation<Scalar>::backward_tangent(Time<Scalar>, ConstMatrixView<Scalar> x,
                                          ConstMatrixView<Scalar> x_dot, const Scalar* ctx,
                                          ConstMatrixView<Scalar> y_bar,
                                          ConstMatrixView<Scalar> y_dot_bar,
                                          MatrixView<Scalar> x_bar, MatrixView<Scalar> x_dot_bar,
                                          Scalar*, Scalar*) {
  assert(ctx && y_bar.rows() == x.rows());
  const Index rows = x.rows();
  ConstMatrixView<Scalar> d1(ctx, rows, features_), d2(ctx + rows * features_, rows, features_);
  // y_dot = sigma'(x) x_dot: d/dx gives sigma''(x) x_dot y_dot_bar, d/dx_dot gives sigma'(x).
  x_bar.array() = y_bar.array() * d1.array() + y_dot_bar.array() * d2.array() * x_dot.array();
  x_dot_bar.array() = y_dot_bar.array() * d1.array();
}

template class Activation<float>;
template class Activation<double>;

}  // namespace neuralode::nn
