// LayerField's public boundary (shape errors name the shapes), Sequential's composition checks,
// the registry and activation-name round trips.
#include <gtest/gtest.h>

#include "neuralode/nn.hpp"
#include "nn/nn_test_fields.hpp"

namespace neuralode::nn {
namespace {

using CV = ConstMatrixView<double>;
using MV = MatrixView<double>;

// Expects InvalidArgument whose message contains every one of `parts`.
template <class F>
void expect_invalid(F&& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no InvalidArgument thrown";
  } catch (const InvalidArgument& e) {
    for (const char* p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << p << "\"";
    }
  }
}

TEST(LayerField, MismatchedShapesThrowNamingTheShapes) {
  LayerField<double> field(testing::spiral<double>());
  Matrix<double> x3(4, 3), x(4, 2), a5(5, 2), f(4, 2), f3(4, 3), xb(4, 2);
  expect_invalid([&] { field.forward(0, CV(x3.data(), 4, 3), MV(f.data(), 4, 2)); },
                 {"LayerField::forward", "x is 4 x 3", "dim 2"});
  expect_invalid([&] { field.forward(0, CV(x.data(), 4, 2), MV(f3.data(), 4, 3)); },
                 {"f is 4 x 3", "4 x 2"});
  expect_invalid(
      [&] {
        field.vjp(0, CV(x.data(), 4, 2), CV(a5.data(), 5, 2), nullptr, MV(xb.data(), 4, 2), nullptr,
                  nullptr);
      },
      {"LayerField::vjp", "a is 5 x 2", "4 x 2"});
  expect_invalid(
      [&] {
        field.jvp(0, CV(x.data(), 4, 2), CV(a5.data(), 5, 2), MV(f.data(), 4, 2),
                  MV(xb.data(), 4, 2));
      },
      {"LayerField::jvp", "v is 5 x 2"});
  expect_invalid(
      [&] {
        field.jvp_vjp(0, CV(x.data(), 4, 2), CV(x.data(), 4, 2), CV(x.data(), 4, 2),
                      CV(a5.data(), 5, 2), MV(xb.data(), 4, 2), MV(f.data(), 4, 2), nullptr,
                      nullptr);
      },
      {"LayerField::jvp_vjp", "jv_bar is 5 x 2"});
}

TEST(LayerField, RejectsARootThatIsNotDimToDim) {
  expect_invalid([] { LayerField<double> f(std::make_unique<Linear<double>>(2, 3)); },
                 {"maps 2 features to 3"});
}

TEST(LayerField, IsAnOdeSystemWhoseRhsIsForward) {
  LayerField<double> field(testing::spiral<double>());
  init_default(field, 3);
  ode::System<double>& sys = field;
  Matrix<double> x = Matrix<double>::Constant(3, 2, 0.5), f1(3, 2), f2(3, 2);
  sys.rhs(0.1, CV(x.data(), 3, 2), MV(f1.data(), 3, 2));
  field.forward(0.1, CV(x.data(), 3, 2), MV(f2.data(), 3, 2));
  EXPECT_EQ(f1, f2);
}

// An inference forward (no context) skips only what backward would need: its output equals the
// training forward's bit for bit, for every activation (tanh and sigmoid take their own path),
// through Sequential and Residual, at a size with a partial SIMD pack (7 x 19 = 133 entries), in
// float and double. It leaves the layer as it was: a backward of an earlier training forward
// after it gives the same gradient as without it (the layers are stateless).
template <class Scalar>
void check_inference_matches_forward() {
  const ActivationFn fns[] = {ActivationFn::identity, ActivationFn::tanh, ActivationFn::relu,
                              ActivationFn::softplus, ActivationFn::elu,  ActivationFn::sigmoid,
                              ActivationFn::sin,      ActivationFn::cube};
  Rng rng(5);
  for (ActivationFn fn : fns) {
    auto net = std::make_unique<Sequential<Scalar>>(std::make_unique<Linear<Scalar>>(19, 19),
                                                    std::make_unique<Activation<Scalar>>(fn, 19));
    Residual<Scalar> layer(std::move(net), 0.5);
    std::vector<Scalar> params(static_cast<std::size_t>(layer.num_params()));
    for (Scalar& p : params) p = static_cast<Scalar>(rng.uniform(-1, 1));
    layer.bind(params.data());
    Matrix<Scalar> x(7, 19), y1(7, 19), y2(7, 19), yb = Matrix<Scalar>::Ones(7, 19), xb1(7, 19),
                                                   xb2(7, 19);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<Scalar>(rng.uniform(-3, 3));
    const ConstMatrixView<Scalar> cx(x.data(), 7, 19), cyb(yb.data(), 7, 19);
    std::vector<Scalar> ctx(static_cast<std::size_t>(layer.context_size(7) + 1));
    layer.forward(0, cx, MatrixView<Scalar>(y1.data(), 7, 19), ctx.data());
    layer.backward(0, cx, ctx.data(), cyb, MatrixView<Scalar>(xb1.data(), 7, 19), nullptr, nullptr);
    layer.forward(0, cx, MatrixView<Scalar>(y2.data(), 7, 19), nullptr);
    EXPECT_EQ(y1, y2) << to_string(fn);
    layer.backward(0, cx, ctx.data(), cyb, MatrixView<Scalar>(xb2.data(), 7, 19), nullptr, nullptr);
    EXPECT_EQ(xb1, xb2) << to_string(fn);
  }
}

TEST(Layer, InferenceForwardEqualsForwardFloat) {
  check_inference_matches_forward<float>();
}
TEST(Layer, InferenceForwardEqualsForwardDouble) {
  check_inference_matches_forward<double>();
}

TEST(Sequential, RejectsAdjacentLayersOfDifferentWidthNamingBoth) {
  Sequential<float> s;
  s.add(std::make_unique<Linear<float>>(2, 5));
  expect_invalid([&] { s.add(std::make_unique<Linear<float>>(4, 2)); },
                 {"layer 1 (Linear) takes 4", "layer 0 (Linear) gives 5"});
}

TEST(LayerRegistry, UnknownNameListsTheRegisteredOnes) {
  expect_invalid([] { find_layer("Conv3d"); }, {"Conv3d", "Linear", "Tanh"});
}

TEST(LayerRegistry, EveryEntryHasASummaryAndMatchingFloatAndDoubleShapes) {
  for (const auto& e : layer_registry()) {
    EXPECT_FALSE(e.summary.empty()) << e.name;
    auto d = e.make<double>();
    auto f = e.make<float>();
    EXPECT_EQ(d->in_features(), f->in_features()) << e.name;
    EXPECT_EQ(d->out_features(), f->out_features()) << e.name;
    EXPECT_EQ(d->num_params(), f->num_params()) << e.name;
  }
}

TEST(ActivationFn, EveryNameRoundTrips) {
  for (auto fn :
       {ActivationFn::identity, ActivationFn::tanh, ActivationFn::relu, ActivationFn::softplus,
        ActivationFn::elu, ActivationFn::sigmoid, ActivationFn::sin, ActivationFn::cube}) {
    EXPECT_EQ(parse_activation_fn(to_string(fn)), fn);
  }
  expect_invalid([] { parse_activation_fn("gelu"); }, {"gelu", "softplus"});
}

TEST(Threads, DefaultIsOneAndNonPositiveIsRejected) {
  EXPECT_EQ(num_threads(), 1);
  EXPECT_THROW(set_num_threads(0), InvalidArgument);
  set_num_threads(2);
  EXPECT_EQ(num_threads(), 2);
  set_num_threads(1);
}

}  // namespace
}  // namespace neuralode::nn
