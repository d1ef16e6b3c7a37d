// ODE-Net, RK-Net and ResNet: the parameter counts of torchdiffeq's script, gradients of the whole
// classifier against central finite differences in double, adjoint against direct through the
// block, evaluation mode, the cross-entropy loss, and bad options.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "neuralode/error.hpp"
#include "neuralode/models/cross_entropy.hpp"
#include "neuralode/models/image_classifier.hpp"
#include "nn/layer_calls.hpp"

namespace neuralode::models {
namespace {

using nn::cv;
using nn::mv;

TEST(ImageClassifier, ParameterCountsMatchTorchdiffeqOdenetMnist) {
  // examples/odenet_mnist.py prints 208266 parameters for the ODE-Net and 576778 for the ResNet
  // (the paper's Table 1 rounds them to 0.22M and 0.60M).
  for (const char* model : {"odenet", "rknet", "resnet"}) {
    ImageClassifierOptions o;
    o.model = model;
    EXPECT_EQ(ImageClassifier<float>(o).num_params(),
              std::string(model) == "resnet" ? 576778 : 208266)
        << model;
  }
}

TEST(ImageClassifier, DefaultGradientMethodsAreThePapers) {
  EXPECT_EQ(ImageClassifierOptions{.model = "odenet"}.effective_grad(), "adjoint");
  EXPECT_EQ(ImageClassifierOptions{.model = "rknet"}.effective_grad(), "direct");
  const ImageClassifierOptions binomial{.model = "odenet", .grad = {.method = "binomial"}};
  EXPECT_EQ(binomial.effective_grad(), "binomial");
}

TEST(ImageClassifier, BadOptionsAreNamed) {
  auto message = [](ImageClassifierOptions o) {
    try {
      ImageClassifier<float> m(o);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message({.model = "vgg"}).find("odenet, rknet, resnet"), std::string::npos);
  EXPECT_NE(message({.image_height = 5}).find("too small"), std::string::npos);
  EXPECT_NE(message({.channels = 0}).find("channels"), std::string::npos);
  EXPECT_NE(message({.grad = {.method = "magic"}}).find("magic"), std::string::npos);
  EXPECT_NE(message({.solve = {.rtol = -1}}).find("rtol"), std::string::npos);
}

// A tiny classifier in double: 4 channels, 10x10 images, 3 classes.
ImageClassifierOptions tiny(const char* model, const char* method, double step, const char* grad) {
  return {.model = model,
          .image_height = 10,
          .image_width = 10,
          .num_classes = 3,
          .channels = 4,
          .resnet_blocks = 2,
          .solve = {.method = method,
                    .rtol = 1e-10,
                    .atol = 1e-10,
                    .step_size = step,
                    .controller = ode::Controller::i,  // the block's default, as before
                    .max_num_steps = 100000},
          .grad = {.method = grad}};
}

struct Batch {
  Matrix<double> x;
  std::vector<int> labels;
};
Batch tiny_batch(Index n) {
  Batch b{Matrix<double>::Random(n, 100), {}};
  b.x = (b.x.array() + 1.0) / 2.0;  // pixels in [0, 1]
  for (Index i = 0; i < n; ++i) b.labels.push_back(static_cast<int>(i % 3));
  return b;
}

double loss_of(ImageClassifier<double>& m, const Batch& b) {
  Matrix<double> logits(b.x.rows(), 3);
  m.forward(cv(b.x), mv(logits));
  return softmax_cross_entropy<double>(cv(logits), b.labels).loss;
}

std::vector<double> gradient_of(ImageClassifier<double>& m, const Batch& b) {
  Matrix<double> logits(b.x.rows(), 3), dl(b.x.rows(), 3);
  m.forward(cv(b.x), mv(logits));
  MatrixView<double> dv(dl.data(), dl.rows(), dl.cols());
  softmax_cross_entropy<double>(cv(logits), b.labels, &dv);
  std::vector<double> g(static_cast<std::size_t>(m.num_params()));
  m.backward(cv(dl), g);
  return g;
}

// Central differences with step 1e-6 have truncation error ~1e-12 and rounding ~1e-16/1e-6 =
// 1e-10 relative to the O(1) loss; 1e-6 relative to the largest gradient entry leaves a wide
// margin over both and still catches any missing or misplaced term (those are O(gradient)).
void expect_gradient_matches_differences(ImageClassifierOptions o) {
  ImageClassifier<double> m(o);
  m.init(3);
  const Batch b = tiny_batch(5);
  const std::vector<double> g = gradient_of(m, b);
  double gmax = 0, worst = 0;
  for (double v : g) gmax = std::max(gmax, std::abs(v));
  ASSERT_GT(gmax, 0);
  auto p = m.params();
  const double eps = 1e-6;
  for (std::size_t i = 0; i < p.size(); i += 3) {  // every third parameter: all layers, 1/3 cost
    const double keep = p[i];
    p[i] = keep + eps;
    const double up = loss_of(m, b);
    p[i] = keep - eps;
    const double down = loss_of(m, b);
    p[i] = keep;
    worst = std::max(worst, std::abs((up - down) / (2 * eps) - g[i]));
  }
  EXPECT_LT(worst / gmax, 1e-6) << o.model << " " << o.solve.method << " " << o.effective_grad();
}

TEST(ImageClassifier, ResNetGradientMatchesCentralDifferences) {
  expect_gradient_matches_differences(tiny("resnet", "dopri5", 0, ""));
}

TEST(ImageClassifier, RkNetGradientMatchesCentralDifferences) {
  // A fixed-step method: an adaptive one would change its steps under the perturbation, and the
  // direct gradient is that of the steps taken (step sizes as constants).
  expect_gradient_matches_differences(tiny("rknet", "rk4", 0.25, "direct"));
}

TEST(ImageClassifier, EvaluationModeGivesTheSameLogitsAndRefusesBackward) {
  ImageClassifier<float> m(
      {.model = "odenet", .image_height = 12, .image_width = 12, .channels = 8});
  m.init(1);
  Matrix<float> x = (Matrix<float>::Random(3, 144).array() + 1.f) / 2.f;
  Matrix<float> train(3, 10), eval(3, 10), dl = Matrix<float>::Ones(3, 10);
  m.forward(cv(x), mv(train));
  m.set_training(false);
  m.forward(cv(x), mv(eval));
  // The same solve (method, tolerances, input): identical operations, identical floats.
  EXPECT_EQ(train, eval);
  std::vector<float> g(static_cast<std::size_t>(m.num_params()));
  EXPECT_THROW(m.backward(cv(dl), g), InvalidArgument);
  m.set_training(true);
  m.forward(cv(x), mv(train));
  EXPECT_NO_THROW(m.backward(cv(dl), g));
}

TEST(CrossEntropy, ValueGradientAndAccuracy) {
  // Row 0: logits (0, 0, 0): loss log 3, predicted class 0. Row 1: (1, 2, 3), label 2:
  // loss = log(e + e^2 + e^3) - 3, correct.
  Matrix<double> logits(2, 3);
  logits << 0, 0, 0, 1, 2, 3;
  const std::vector<int> labels{1, 2};
  Matrix<double> dl(2, 3);
  MatrixView<double> dv(dl.data(), 2, 3);
  const auto r = softmax_cross_entropy<double>(cv(logits), labels, &dv);
  const double row1 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(r.loss, (std::log(3.0) + row1) / 2, 1e-15);
  EXPECT_EQ(r.correct, 1);
  // Rows of (softmax - onehot) / batch sum to zero.
  EXPECT_NEAR(dl.row(0).sum(), 0, 1e-15);
  EXPECT_NEAR(dl(0, 1), (1.0 / 3 - 1) / 2, 1e-15);
  // Central differences of the loss in each logit.
  for (Index k = 0; k < 6; ++k) {
    Matrix<double> up = logits, down = logits;
    up.data()[k] += 1e-6, down.data()[k] -= 1e-6;
    const double fd = (softmax_cross_entropy<double>(cv(up), labels).loss -
                       softmax_cross_entropy<double>(cv(down), labels).loss) /
                      2e-6;
    EXPECT_NEAR(fd, dl.data()[k], 1e-9);
  }
}

TEST(CrossEntropy, LargeLogitsDoNotOverflowAndBadLabelsAreNamed) {
  Matrix<float> logits(1, 2);
  logits << 1000.f, 0.f;
  EXPECT_NEAR(softmax_cross_entropy<float>(cv(logits), std::vector<int>{1}).loss, 1000.0, 1e-3);
  try {
    softmax_cross_entropy<float>(cv(logits), std::vector<int>{2});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("label 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace neuralode::models
