// Reference convolution: per sample, im2col then one GEMM (nn's Eigen Matmul) (Chellapilla, Puri &
// Simard 2006, "High performance convolutional neural networks for document processing"). It serves
// double (oneDNN has no f64 convolution) and is the float baseline the oneDNN path is tested
// against. Workspace: the im2col matrix of one sample (pixels x patch, so that the products are
// nn's Linear-shaped Matmul) and its cotangent, sized at construction; nothing is allocated per
// call.
#include <algorithm>
#include <cassert>
#include <type_traits>

#include "conv2d_kernel.hpp"
#include "neuralode/error.hpp"
#include "nn/backend/matmul.hpp"

namespace neuralode::nn::detail {
namespace {

template <class Scalar>
class ReferenceConv final : public ConvKernel<Scalar> {
 public:
  ReferenceConv(const ConvGeometry& g, Index ldw)
      : g_(g),
        ldw_(ldw),
        col_(g.out_pixels(), g.patch_size()),
        col_bar_(col_.rows(), col_.cols()),
        y_t_(g.out_pixels(), g.out_channels),
        mm_(make_matmul<Scalar>(MatmulBackend::eigen)) {}

  // Per sample, with col = im2col(x) (pixels x patch) and Y = y_n^T (pixels x out):
  // Y = col W^T, the Linear product of nn's Matmul.
  void forward(ConstMatrixView<Scalar> x, const Scalar* w, MatrixView<Scalar> y) override {
    assert(x.cols() == g_.in_features() && y.cols() == g_.out_features() && x.rows() == y.rows());
    for (Index n = 0; n < x.rows(); ++n) {
      im2col(x.row(n).data());
      mm_->forward(view(col_), w, ldw_, nullptr, mview(y_t_));
      MatrixView<Scalar>(y.row(n).data(), g_.out_channels, g_.out_pixels()) = y_t_.transpose();
    }
  }

  // col_bar = Y_bar W -> col2im gives x_bar; W_bar += Y_bar^T col.
  void backward(ConstMatrixView<Scalar> x, ConstMatrixView<Scalar> y_bar, const Scalar* w,
                MatrixView<Scalar> x_bar, Scalar* w_bar) override {
    assert(x.rows() == y_bar.rows());
    assert(y_bar.cols() == g_.out_features() &&
           (x_bar.data() == nullptr || x_bar.cols() == g_.in_features()));
    for (Index n = 0; n < y_bar.rows(); ++n) {
      y_t_ = ConstMatrixView<Scalar>(y_bar.row(n).data(), g_.out_channels, g_.out_pixels())
                 .transpose();
      if (x_bar.data() != nullptr) {  // null: the input's cotangent is not wanted
        mm_->backward_input(view(y_t_), w, ldw_, mview(col_bar_));
        col2im(x_bar.row(n).data());
      }
      if (w_bar) {
        im2col(x.data() + n * g_.in_features());
        mm_->backward_weight(view(y_t_), view(col_), w_bar, ldw_);
      }
    }
  }

 private:
  static ConstMatrixView<Scalar> view(const Matrix<Scalar>& m) {
    return {m.data(), m.rows(), m.cols()};
  }
  static MatrixView<Scalar> mview(Matrix<Scalar>& m) { return {m.data(), m.rows(), m.cols()}; }

  // col_(oh*Wo + ow, c*k*k + kh*k + kw) = x[c, oh*s - p + kh, ow*s - p + kw], 0 in the padding.
  void im2col(const Scalar* x) {
    const Index k = g_.kernel, wo = g_.out_width();
    for (Index p = 0; p < col_.rows(); ++p) {
      Scalar* row = col_.data() + p * col_.cols();
      const Index oh = p / wo, ow = p % wo;
      for (Index c = 0; c < g_.in_channels; ++c) {
        const Scalar* xc = x + c * g_.height * g_.width;
        for (Index kh = 0; kh < k; ++kh) {
          const Index ih = oh * g_.stride - g_.padding + kh;
          for (Index kw = 0; kw < k; ++kw) {
            const Index iw = ow * g_.stride - g_.padding + kw;
            const bool inside = ih >= 0 && ih < g_.height && iw >= 0 && iw < g_.width;
            *row++ = inside ? xc[ih * g_.width + iw] : Scalar(0);
          }
        }
      }
    }
  }

  // x_bar = sum of col_bar_ entries over the taps that read each pixel (the transpose of im2col).
  void col2im(Scalar* x_bar) {
    const Index k = g_.kernel, wo = g_.out_width();
    std::fill(x_bar, x_bar + g_.in_features(), Scalar(0));
    for (Index p = 0; p < col_bar_.rows(); ++p) {
      const Scalar* row = col_bar_.data() + p * col_bar_.cols();
      const Index oh = p / wo, ow = p % wo;
      for (Index c = 0; c < g_.in_channels; ++c) {
        Scalar* xc = x_bar + c * g_.height * g_.width;
        for (Index kh = 0; kh < k; ++kh) {
          const Index ih = oh * g_.stride - g_.padding + kh;
          for (Index kw = 0; kw < k; ++kw, ++row) {
            const Index iw = ow * g_.stride - g_.padding + kw;
            if (ih >= 0 && ih < g_.height && iw >= 0 && iw < g_.width) {
              xc[ih * g_.width + iw] += *row;
            }
          }
        }
      }
    }
  }

  ConvGeometry g_;
  Index ldw_;
  Matrix<Scalar> col_, col_bar_, y_t_;
  // Eigen GEMM with packing buffers kept per shape (Eigen's expression path heap-allocates them
  // per call above 128 KiB, e.g. 64 x 576 doubles).
  std::unique_ptr<Matmul<Scalar>> mm_;
};

}  // namespace

template <class Scalar>
std::unique_ptr<ConvKernel<Scalar>> make_conv_kernel(const ConvGeometry& g, Index ldw,
                                                     ConvBackend backend) {
  if constexpr (std::is_same_v<Scalar, float>) {
    if (backend != ConvBackend::reference) return make_onednn_conv_kernel(g, ldw);
  } else if (backend == ConvBackend::onednn) {
    throw InvalidArgument(
        "make_conv_kernel: backend onednn supports float only (oneDNN has no f64 convolution); "
        "use reference or automatic for double");
  }
  return std::make_unique<ReferenceConv<Scalar>>(g, ldw);
}

template std::unique_ptr<ConvKernel<float>> make_conv_kernel<float>(const ConvGeometry&, Index,
                                                                    ConvBackend);
template std::unique_ptr<ConvKernel<double>> make_conv_kernel<double>(const ConvGeometry&, Index,
                                                                      ConvBackend);

}  // namespace neuralode::nn::detail
