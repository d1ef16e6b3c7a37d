// Eigen products for Matmul, by shape (measured on the spiral and MLP benchmarks, see docs/nn.md):
//  - Thin products, where one of in / out is <= 4 (the spiral's Linear(2, 50) and Linear(50, 2)):
//    the SIMD kernels of matmul_thin.hpp, vectorised along the long dimension (axpy over
//    contiguous rows, or dot products of contiguous rows). Eigen's GEMM packs both operands first
//    and its micro-kernel tiles are wider than 2, so for these shapes it ran 3-5x slower.
//  - Small products (m n k < 16^3): Eigen expressions (coefficient-based or GEMM with packing on
//    the stack).
//  - Larger: Eigen's GEMM kernel (internal::general_matrix_matrix_product, what `noalias() +=`
//    runs) with a gemm_blocking_space kept per shape. Eigen's expression path heap-allocates its
//    packing buffers on every call once they exceed EIGEN_STACK_ALLOCATION_LIMIT (128 KiB, e.g.
//    a 256 x 256 x 256 float product), and nn promises no allocation after the first call.
// GCC 12 reports false "may be used uninitialized" warnings inside its own AVX-512 intrinsics
// (_mm512_undefined_*) as Eigen's packet math inlines them; nothing here is uninitialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "nn/backend/matmul_eigen.hpp"
#include "nn/backend/matmul_thin.hpp"

#include <algorithm>

namespace neuralode::nn::detail {
namespace {

template <class Scalar>
using StridedConst = Eigen::Map<const Matrix<Scalar>, 0, Eigen::OuterStride<>>;
template <class Scalar>
using Strided = Eigen::Map<Matrix<Scalar>, 0, Eigen::OuterStride<>>;
template <class Scalar>
using RowVec = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

constexpr Index kThin = 4;
constexpr Index kDirectGemmMinWork = 16 * 16 * 16;

template <class Scalar>
using Blocking =
    Eigen::internal::gemm_blocking_space<Eigen::RowMajor, Scalar, Scalar, Eigen::Dynamic,
                                         Eigen::Dynamic, Eigen::Dynamic, 1, false>;

// res (m x n, row-major, row stride ldr) += lhs (m x k) * rhs (k x n), each operand row- or
// column-major with its stride, through Eigen's GEMM kernel.
template <class Scalar, int LhsOrder, int RhsOrder>
void gemm(Index m, Index n, Index k, const Scalar* lhs, Index ldl, const Scalar* rhs, Index ldrhs,
          Scalar* res, Index ldr, Blocking<Scalar>& blocking) {
  Eigen::internal::general_matrix_matrix_product<Index, Scalar, LhsOrder, false, Scalar, RhsOrder,
                                                 false, Eigen::RowMajor, 1>::run(m, n, k, lhs, ldl,
                                                                                 rhs, ldrhs, res, 1,
                                                                                 ldr, Scalar(1),
                                                                                 blocking, nullptr);
}

// dst (K x n, contiguous) = W^T for W n x K with row stride ldw, K a compile-time constant: the
// thin products call this on every forward (W changes between calls), and the generic loop's
// run-time K kept it scalar (5-7 % of a spiral training step in perf).
template <int K, class Scalar>
void transpose_thin(Scalar* __restrict dst, const Scalar* __restrict w, Index n, Index ldw) {
  for (Index j = 0; j < n; ++j)
    for (int i = 0; i < K; ++i) dst[i * n + j] = w[j * ldw + i];
}

// dst (k x n, contiguous) = W^T for W n x k with row stride ldw.
template <class Scalar>
Scalar* transpose_into(std::vector<Scalar>& dst, const Scalar* w, Index n, Index k, Index ldw) {
  if (dst.size() < static_cast<std::size_t>(n * k)) dst.resize(static_cast<std::size_t>(n * k));
  Scalar* d = dst.data();
  switch (k) {
    case 1:
      transpose_thin<1>(d, w, n, ldw);
      break;
    case 2:
      transpose_thin<2>(d, w, n, ldw);
      break;
    case 3:
      transpose_thin<3>(d, w, n, ldw);
      break;
    case 4:
      transpose_thin<4>(d, w, n, ldw);
      break;
    default:
      for (Index j = 0; j < n; ++j)
        for (Index i = 0; i < k; ++i) d[i * n + j] = w[j * ldw + i];
  }
  return d;
}

}  // namespace

template <class Scalar>
struct EigenMatmul<Scalar>::Blockings {
  struct Entry {
    Index m, n, k;
    std::unique_ptr<Blocking<Scalar>> blocking;
  };
  std::vector<Entry> entries;

  Blocking<Scalar>& get(Index m, Index n, Index k) {
    for (auto& e : entries) {
      if (e.m == m && e.n == n && e.k == k) return *e.blocking;
    }
    auto b = std::make_unique<Blocking<Scalar>>(m, n, k, 1, true);
    b->allocateAll();
    entries.push_back({m, n, k, std::move(b)});
    return *entries.back().blocking;
  }
};

template <class Scalar>
EigenMatmul<Scalar>::EigenMatmul() : blockings_(std::make_unique<Blockings>()) {}

template <class Scalar>
EigenMatmul<Scalar>::~EigenMatmul() = default;

template <class Scalar>
void EigenMatmul<Scalar>::forward(ConstMatrixView<Scalar> x, const Scalar* w, Index ldw,
                                  const Scalar* b, MatrixView<Scalar> y) {
  const Index m = x.rows(), in = x.cols(), out = y.cols();
  const Scalar* xp = x.data();
  Scalar* yp = y.data();
  if (in <= kThin) {
    // y(r, :) = b + sum_i x(r, i) W^T(i, :), with W^T made contiguous once per call.
    const Scalar* wt = transpose_into(scratch_, w, out, in, ldw);
    with_thin_k(in, [&](auto k) { thin_axpy_rows<k()>(m, out, xp, in, wt, out, b, yp, out); });
    return;
  }
  if (out <= kThin) {
    // y(r, j) = b_j + x(r, :) . W(j, :): dot products of contiguous rows.
    with_thin_k(out, [&](auto k) { thin_dot_rows<k()>(m, in, xp, in, w, ldw, b, yp, out); });
    return;
  }
  if (b) {
    y.rowwise() = Eigen::Map<const RowVec<Scalar>>(b, out);
  } else {
    y.setZero();
  }
  if (m * in * out < kDirectGemmMinWork) {
    StridedConst<Scalar> W(w, out, in, Eigen::OuterStride<>(ldw));
    y.noalias() += x * W.transpose();
  } else {
    // lhs x: row-major m x in; rhs W^T: column-major in x out with stride ldw.
    gemm<Scalar, Eigen::RowMajor, Eigen::ColMajor>(m, out, in, xp, in, w, ldw, yp, out,
                                                   blockings_->get(m, out, in));
  }
}

template <class Scalar>
void EigenMatmul<Scalar>::backward_input(ConstMatrixView<Scalar> y_bar, const Scalar* w, Index ldw,
                                         MatrixView<Scalar> x_bar) {
  const Index m = y_bar.rows(), in = x_bar.cols(), out = y_bar.cols();
  const Scalar* yb = y_bar.data();
  Scalar* xb = x_bar.data();
  if (out <= kThin) {
    // x_bar(r, :) = sum_j y_bar(r, j) W(j, :): rows of W are contiguous.
    with_thin_k(out, [&](auto k) {
      thin_axpy_rows<k()>(m, in, yb, out, w, ldw, static_cast<const Scalar*>(nullptr), xb, in);
    });
    return;
  }
  if (in <= kThin) {
    // x_bar(r, i) = y_bar(r, :) . W^T(i, :).
    const Scalar* wt = transpose_into(scratch_, w, out, in, ldw);
    with_thin_k(in, [&](auto k) {
      thin_dot_rows<k()>(m, out, yb, out, wt, out, static_cast<const Scalar*>(nullptr), xb, in);
    });
    return;
  }
  if (m * in * out < kDirectGemmMinWork) {
    StridedConst<Scalar> W(w, out, in, Eigen::OuterStride<>(ldw));
    x_bar.noalias() = y_bar * W;
  } else {
    // lhs y_bar: row-major m x out; rhs W: row-major out x in with stride ldw.
    x_bar.setZero();
    gemm<Scalar, Eigen::RowMajor, Eigen::RowMajor>(m, in, out, yb, out, w, ldw, xb, in,
                                                   blockings_->get(m, in, out));
  }
}

template <class Scalar>
void EigenMatmul<Scalar>::backward_weight(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> x,
                                          Scalar* w_bar, Index ldw) {
  const Index m = y_bar.rows(), in = x.cols(), out = y_bar.cols();
  const Scalar* yb = y_bar.data();
  const Scalar* xp = x.data();
  if (out <= kThin) {
    // W_bar(j, :) += sum_r y_bar(r, j) x(r, :): rows of W_bar stay in L1 across r.
    with_thin_k(out, [&](auto k) { thin_rank_update<k()>(m, in, yb, out, xp, in, w_bar, ldw); });
    return;
  }
  if (in <= kThin) {
    // W_bar^T(i, :) += sum_r x(r, i) y_bar(r, :), accumulated contiguously, then added in.
    if (scratch_.size() < static_cast<std::size_t>(in * out)) {
      scratch_.resize(static_cast<std::size_t>(in * out));
    }
    Scalar* acc = scratch_.data();
    std::fill(acc, acc + in * out, Scalar(0));
    with_thin_k(in, [&](auto k) { thin_rank_update<k()>(m, out, xp, in, yb, out, acc, out); });
    for (Index j = 0; j < out; ++j) {
      for (Index i = 0; i < in; ++i) w_bar[j * ldw + i] += acc[i * out + j];
    }
    return;
  }
  if (out * in * m < kDirectGemmMinWork) {
    Strided<Scalar> Wb(w_bar, out, in, Eigen::OuterStride<>(ldw));
    Wb.noalias() += y_bar.transpose() * x;
  } else {
    // lhs y_bar^T: column-major out x m with stride out; rhs x: row-major m x in.
    gemm<Scalar, Eigen::ColMajor, Eigen::RowMajor>(out, in, m, yb, out, xp, in, w_bar, ldw,
                                                   blockings_->get(out, in, m));
  }
}

template class EigenMatmul<float>;
template class EigenMatmul<double>;

}  // namespace neuralode::nn::detail
