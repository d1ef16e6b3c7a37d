// ImageClassifier: ODE-Net, RK-Net and ResNet as one Sequential each; see image_classifier.hpp.
// Layer shapes and parameter counts follow torchdiffeq's examples/odenet_mnist.py.
#include "neuralode/models/image_classifier.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "neuralode/error.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/concat_conv2d.hpp"
#include "neuralode/nn/conv2d.hpp"
#include "neuralode/nn/global_avg_pool.hpp"
#include "neuralode/nn/group_norm.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/residual.hpp"

namespace neuralode::models {

namespace {

bool is_registered(const std::string& name) {
  for (const ImageModel& m : image_models())
    if (m.name == name) return true;
  return false;
}

}  // namespace

void ImageClassifierOptions::validate() const {
  if (!is_registered(model))
    throw InvalidArgument("image classifier: model '" + model +
                          "' is not known; accepted: " + image_model_names());
  auto positive = [](const char* name, Index v) {
    if (v < 1)
      throw InvalidArgument(std::string("image classifier: ") + name + " = " + std::to_string(v) +
                            "; accepted: an integer >= 1");
  };
  positive("image_channels", image_channels);
  positive("num_classes", num_classes);
  positive("channels", channels);
  positive("resnet_blocks", resnet_blocks);
  // Two stride-2 4x4 convolutions after a 3x3 one: the smallest image that leaves 1x1 is 9x9.
  if (image_height < 9 || image_width < 9)
    throw InvalidArgument("image classifier: images of " + std::to_string(image_height) + "x" +
                          std::to_string(image_width) +
                          " are too small for the down-sampling layers; need at least 9x9");
  // Sizes whose products (channels x height x width per image) stay far from Index's range.
  constexpr Index kMaxSide = Index{1} << 20, kMaxChannels = Index{1} << 16;
  if (image_height > kMaxSide || image_width > kMaxSide || image_channels > kMaxChannels ||
      channels > kMaxChannels || num_classes > kMaxChannels)
    throw InvalidArgument(
        "image classifier: sizes out of range: images " + std::to_string(image_channels) + "x" +
        std::to_string(image_height) + "x" + std::to_string(image_width) + ", channels " +
        std::to_string(channels) + ", num_classes " + std::to_string(num_classes) +
        "; accepted: image sides up to 1048576, channel and class counts up to 65536");
  if (!find_image_model(model).has_ode_block) {
    if (!grad.method.empty() && grad.method != "direct")
      throw InvalidArgument("image classifier: grad '" + grad.method +
                            "' does not apply to model resnet, which has no ODE block and is "
                            "trained by backpropagation; accepted: direct, or leave it empty");
  } else {
    try {
      solve.validate();
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("image classifier: solve: ") + e.what());
    }
    grad::GradOptions g = grad;
    g.method = effective_grad();
    g.validate();
  }
}

std::string ImageClassifierOptions::effective_grad() const {
  if (!grad.method.empty()) return grad.method;
  return find_image_model(model).default_grad;
}

namespace {

template <class Scalar>
struct Builder {
  const ImageClassifierOptions& o;
  Index h = 0, w = 0;  // current image size

  nn::GroupNormOptions gn(Index c) const {
    return {.num_groups = std::min<Index>(32, c), .num_channels = c, .height = h, .width = w};
  }
  nn::Conv2dOptions conv(Index in, Index out, Index k, Index stride, Index pad, bool bias) const {
    return {.in_channels = in,
            .out_channels = out,
            .kernel_size = k,
            .stride = stride,
            .padding = pad,
            .bias = bias,
            .height = h,
            .width = w};
  }
  std::unique_ptr<nn::Layer<Scalar>> norm(Index c) const {
    return std::make_unique<nn::GroupNorm<Scalar>>(gn(c));
  }
  std::unique_ptr<nn::Layer<Scalar>> relu(Index c) const {
    return std::make_unique<nn::Activation<Scalar>>(nn::ActivationFn::relu, c * h * w);
  }
  // A convolution from the current size; moves the current size to its output.
  std::unique_ptr<nn::Layer<Scalar>> conv_layer(Index in, Index out, Index k, Index s, Index p,
                                                bool bias) {
    const nn::Conv2dOptions c = conv(in, out, k, s, p, bias);
    h = c.out_height(), w = c.out_width();
    return std::make_unique<nn::Conv2d<Scalar>>(c);
  }

  std::unique_ptr<nn::Sequential<Scalar>> downsampling() {
    const Index C = o.channels;
    h = o.image_height, w = o.image_width;
    auto s = std::make_unique<nn::Sequential<Scalar>>();
    s->add(conv_layer(o.image_channels, C, 3, 1, 0, true));
    s->add(norm(C)).add(relu(C));
    s->add(conv_layer(C, C, 4, 2, 1, true));
    s->add(norm(C)).add(relu(C));
    s->add(conv_layer(C, C, 4, 2, 1, true));
    return s;
  }
  // torchdiffeq's ODEfunc: norm1 relu conv1(t) norm2 relu conv2(t) norm3.
  std::unique_ptr<nn::Sequential<Scalar>> ode_field() const {
    const Index C = o.channels;
    auto s = std::make_unique<nn::Sequential<Scalar>>();
    s->add(norm(C)).add(relu(C));
    s->add(std::make_unique<nn::ConcatConv2d<Scalar>>(conv(C, C, 3, 1, 1, true)));
    s->add(norm(C)).add(relu(C));
    s->add(std::make_unique<nn::ConcatConv2d<Scalar>>(conv(C, C, 3, 1, 1, true)));
    s->add(norm(C));
    return s;
  }
  // torchdiffeq's ResBlock (no down-sampling): x + conv2(relu(norm2(conv1(relu(norm1(x)))))),
  // 3x3 convolutions without bias.
  std::unique_ptr<nn::Layer<Scalar>> res_block() const {
    const Index C = o.channels;
    auto s = std::make_unique<nn::Sequential<Scalar>>();
    s->add(norm(C)).add(relu(C));
    s->add(std::make_unique<nn::Conv2d<Scalar>>(conv(C, C, 3, 1, 1, false)));
    s->add(norm(C)).add(relu(C));
    s->add(std::make_unique<nn::Conv2d<Scalar>>(conv(C, C, 3, 1, 1, false)));
    return std::make_unique<nn::Residual<Scalar>>(std::move(s), 1.0);
  }
  std::unique_ptr<nn::Sequential<Scalar>> head() const {
    const Index C = o.channels;
    auto s = std::make_unique<nn::Sequential<Scalar>>();
    s->add(norm(C)).add(relu(C));
    s->add(std::make_unique<nn::GlobalAvgPool<Scalar>>(C, h, w));
    s->add(std::make_unique<nn::Linear<Scalar>>(C, o.num_classes));
    return s;
  }
};

}  // namespace

template <class Scalar>
ImageClassifier<Scalar>::ImageClassifier(const ImageClassifierOptions& options)
    : options_(options) {
  options_.validate();
  Builder<Scalar> b{options_};
  auto down = b.downsampling();
  down_params_ = down->num_params();
  net_.add(std::move(down));
  if (!find_image_model(options_.model).has_ode_block) {
    auto middle = std::make_unique<nn::Sequential<Scalar>>();
    for (int i = 0; i < options_.resnet_blocks; ++i) middle->add(b.res_block());
    middle_params_ = middle->num_params();
    net_.add(std::move(middle));
  } else {
    OdeBlockOptions bo;
    bo.solve = options_.solve;
    bo.grad = options_.grad;
    bo.grad.method = options_.effective_grad();
    auto block = std::make_unique<OdeBlock<Scalar>>(b.ode_field(), bo);
    block_ = block.get();
    middle_params_ = block->num_params();
    net_.add(std::move(block));
  }
  auto head = b.head();
  head_params_ = head->num_params();
  net_.add(std::move(head));
  views_ = net_.param_specs();
  params_.assign(static_cast<std::size_t>(net_.num_params()), Scalar(0));
  net_.bind(params_.data());
}

template <class Scalar>
void ImageClassifier<Scalar>::init(std::uint64_t seed) {
  nn::init_default<Scalar>(params_, views_, seed);
}

template <class Scalar>
void ImageClassifier<Scalar>::set_training(bool training) {
  if (block_) block_->set_training(training);
}

template <class Scalar>
void ImageClassifier<Scalar>::forward(ConstMatrixView<Scalar> x, MatrixView<Scalar> logits) {
  if (x.cols() != input_features() || logits.cols() != num_classes() || logits.rows() != x.rows())
    throw InvalidArgument("ImageClassifier::forward: x is " + std::to_string(x.rows()) + " x " +
                          std::to_string(x.cols()) + " and logits " +
                          std::to_string(logits.rows()) + " x " + std::to_string(logits.cols()) +
                          "; expected batch x " + std::to_string(input_features()) +
                          " and batch x " + std::to_string(num_classes()));
  const auto n = static_cast<std::size_t>(std::max<Index>(net_.context_size(x.rows()), 1));
  if (ctx_.size() < n) ctx_.resize(n);  // grow-only: no allocation after the first batch
  net_.forward(Scalar(0), x, logits, ctx_.data());
  x_ = x.data();
  x_rows_ = x.rows();
}

template <class Scalar>
void ImageClassifier<Scalar>::backward(ConstMatrixView<Scalar> dlogits, std::span<Scalar> grad) {
  if (static_cast<Index>(grad.size()) != num_params())
    throw InvalidArgument("ImageClassifier::backward: grad has " + std::to_string(grad.size()) +
                          " entries; the model has " + std::to_string(num_params()) +
                          " parameters");
  std::fill(grad.begin(), grad.end(), Scalar(0));
  // The images' cotangent is not wanted: a null x_bar lets the first convolution skip its
  // backward-data pass (13.6 ms of an ODE-Net iteration at batch 128).
  if (!x_ || dlogits.rows() != x_rows_)
    throw InvalidArgument("ImageClassifier::backward: dlogits has " +
                          std::to_string(dlogits.rows()) + " rows but the last forward had " +
                          std::to_string(x_rows_) + " (backward needs a forward of that batch)");
  net_.backward(Scalar(0), ConstMatrixView<Scalar>(x_, x_rows_, input_features()), ctx_.data(),
                dlogits, MatrixView<Scalar>(nullptr, dlogits.rows(), input_features()), grad.data(),
                nullptr);
}

template <class Scalar>
std::int64_t ImageClassifier<Scalar>::last_nfe_forward() const {
  return block_ ? block_->last_nfe_forward() : options_.resnet_blocks;
}

template <class Scalar>
std::int64_t ImageClassifier<Scalar>::last_nfe_backward() const {
  return block_ ? block_->last_nfe_backward() : options_.resnet_blocks;
}

template <class Scalar>
std::string ImageClassifier<Scalar>::describe() const {
  std::ostringstream s;
  s << options_.model << ": " << num_params() << " parameters (down-sampling " << down_params_
    << ", " << (block_ ? "ODE block " : "residual blocks ") << middle_params_ << ", head "
    << head_params_ << ")";
  if (block_)
    s << "; " << options_.solve.method << " at tol " << options_.solve.rtol
      << (options_.solve.atol != options_.solve.rtol
              ? " (atol " + std::to_string(options_.solve.atol) + ")"
              : std::string())
      << ", gradients by " << options_.effective_grad();
  return s.str();
}

template class ImageClassifier<float>;
template class ImageClassifier<double>;

}  // namespace neuralode::models
