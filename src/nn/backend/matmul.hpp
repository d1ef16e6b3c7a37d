// The one internal interface behind every dense product in nn: Y = X W^T (+ b) and its two
// transposes (X_bar = Y_bar W, W_bar += Y_bar^T X). Eigen serves small and mid sizes, oneDNN's
// matmul large ones; `automatic` picks per call by size (threshold below, measured).
#pragma once

#include <memory>

#include "neuralode/types.hpp"

namespace neuralode::nn::detail {

// W is out x in, row-major with row stride ldw >= in (ldw > in for a column block of a wider
// matrix, e.g. ConcatLinear's weight without its t column). Outputs never alias inputs.
template <class Scalar>
class Matmul {
 public:
  virtual ~Matmul() = default;
  // y = x W^T, plus b broadcast over rows when b is non-null. x: batch x in, y: batch x out.
  virtual void forward(ConstMatrixView<Scalar> x, const Scalar* w, Index ldw, const Scalar* b,
                       MatrixView<Scalar> y) = 0;
  // x_bar = y_bar W (overwrites). y_bar: batch x out, x_bar: batch x in.
  virtual void backward_input(ConstMatrixView<Scalar> y_bar, const Scalar* w, Index ldw,
                              MatrixView<Scalar> x_bar) = 0;
  // w_bar += y_bar^T x, w_bar out x in with row stride ldw.
  virtual void backward_weight(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> x,
                               Scalar* w_bar, Index ldw) = 0;
};

enum class MatmulBackend { automatic, eigen, onednn };

template <class Scalar>
std::unique_ptr<Matmul<Scalar>> make_matmul(MatmulBackend backend = MatmulBackend::automatic);

// Whether `automatic` sends an m x k times k x n product to oneDNN (see matmul_auto.cpp for the
// measurement behind it).
bool onednn_pays(Index m, Index k, Index n, int threads);

}  // namespace neuralode::nn::detail
