// The convolution products behind Conv2d and ConcatConv2d, without bias: y = conv(x, W), its
// transpose x_bar = conv^T(y_bar, W), and the weight gradient W_bar += corr(x, y_bar). Two
// implementations: oneDNN's primitives (float; oneDNN has no f64 convolution) and a reference
// im2col + Eigen GEMM path (any Scalar; the double path gradcheck uses).
#pragma once

#include <memory>

#include "conv2d_geometry.hpp"
#include "neuralode/types.hpp"

namespace neuralode::nn::detail {

// Weights: out_channels rows; row o starts at w + o * ldw and holds in_channels * k * k entries in
// (c, kh, kw) order, i.e. PyTorch's OIHW layout, possibly a channel sub-range of a wider filter
// (ConcatConv2d passes its weight without the time channel, ldw = (in + 1) k^2). Images are NCHW
// rows (batch x C*H*W). Outputs never alias inputs.
//
// Stateless: backward is given the input x of the matching forward again (the caller keeps it
// alive and unchanged, the Layer contract). oneDNN re-blocks it for the weight gradient, one copy
// of x next to the convolution's k^2 C_out multiply-adds per input entry; keeping the blocked copy
// from forward instead would put a copy of every input into the layer's context.
template <class Scalar>
class ConvKernel {
 public:
  virtual ~ConvKernel() = default;
  // y = conv(x, w); y is overwritten.
  virtual void forward(ConstMatrixView<Scalar> x, const Scalar* w, MatrixView<Scalar> y) = 0;
  // x_bar = conv^T(y_bar, w) (overwrites) unless x_bar.data() is null; w_bar += d<y_bar,
  // conv(x, w)>/dw when non-null (same layout and ldw as w), x the input of the matching forward.
  virtual void backward(ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> y_bar, const Scalar* w,
                        MatrixView<Scalar> x_bar, Scalar* w_bar) = 0;
};

enum class ConvBackend {
  automatic,  // oneDNN for float, reference for double
  reference,  // im2col + Eigen GEMM (tests use it as the float baseline)
  onednn,     // float only
};

// Throws InvalidArgument for onednn with double.
template <class Scalar>
std::unique_ptr<ConvKernel<Scalar>> make_conv_kernel(const ConvGeometry& g, Index ldw,
                                                     ConvBackend backend = ConvBackend::automatic);

std::unique_ptr<ConvKernel<float>> make_onednn_conv_kernel(const ConvGeometry& g, Index ldw);

extern template std::unique_ptr<ConvKernel<float>> make_conv_kernel<float>(const ConvGeometry&,
                                                                           Index, ConvBackend);
extern template std::unique_ptr<ConvKernel<double>> make_conv_kernel<double>(const ConvGeometry&,
                                                                             Index, ConvBackend);

}  // namespace neuralode::nn::detail
