// Eigen implementation of Matmul: the default for small and mid sizes. Large products call Eigen's
// GEMM kernel directly with packing buffers kept per shape, because Eigen's expression path heap-
// allocates its packing buffers on every call once they exceed EIGEN_STACK_ALLOCATION_LIMIT
// (128 KiB; e.g. a 256 x 256 x 256 float product) and nn promises no allocation after the first
// call at a batch size.
#pragma once

#include <memory>
#include <vector>

#include "nn/backend/matmul.hpp"

namespace neuralode::nn::detail {

template <class Scalar>
class EigenMatmul final : public Matmul<Scalar> {
 public:
  EigenMatmul();
  ~EigenMatmul() override;
  void forward(ConstMatrixView<Scalar> x, const Scalar* w, Index ldw, const Scalar* b,
               MatrixView<Scalar> y) override;
  void backward_input(ConstMatrixView<Scalar> y_bar, const Scalar* w, Index ldw,
                      MatrixView<Scalar> x_bar) override;
  void backward_weight(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> x, Scalar* w_bar,
                       Index ldw) override;

  struct Blockings;  // packing buffers per product shape

 private:
  std::unique_ptr<Blockings> blockings_;
  std::vector<Scalar> scratch_;  // W^T or W_bar^T for the thin-product kernels (grow-only)
};

extern template class EigenMatmul<float>;
extern template class EigenMatmul<double>;

}  // namespace neuralode::nn::detail
