// No allocation after the first call at a batch size: forward, vjp, jvp and jvp_vjp of the fields
// and every registered layer's passes, counted while a flag is set (GoogleTest's own allocations
// happen outside), with a second batch size interleaved.
#include <gtest/gtest.h>

#include "support/alloc_counter.hpp"

#include <functional>

#include "neuralode/nn.hpp"
#include "nn/nn_test_fields.hpp"

// The nn tests' allocation counter, defined once for the test binary in conv2d_test.cpp: it counts
// every malloc-family call while a flag is set (operator new goes through malloc in libstdc++, and
// Eigen allocates with malloc directly, which a counting operator new alone would miss). One
// definition avoids two interposed mallocs fighting at link time.
namespace neuralode::nn {
namespace alloc_count = neuralode::testing::alloc_count;
}

namespace neuralode::nn {
namespace {

long allocations_in(const std::function<void()>& f) {
  return alloc_count::count(f);
}

TEST(NoAllocation, CounterSeesOperatorNewAndMalloc) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  static int* volatile sink = nullptr;  // keeps the compiler from eliding new/delete
  EXPECT_EQ(allocations_in([] {
              sink = new int(1);
              delete sink;
            }),
            1);
  EXPECT_EQ(allocations_in([] {
              Matrix<double> m(40, 40);  // Eigen's heap path
              m.setZero();
            }),
            1);
}

// All four products at `batch`, as one callable (buffers of its own, made here).
template <class S>
std::function<void()> field_products(LayerField<S>& field, Index batch) {
  const Index d = field.dim();
  Matrix<S> x = Matrix<S>::Constant(batch, d, S(0.3)), a = x, v = x, f(batch, d), jv(batch, d),
            xb(batch, d), vb(batch, d);
  std::vector<S> g(static_cast<std::size_t>(field.num_params()));
  S tb = 0;
  using CV = ConstMatrixView<S>;
  using MV = MatrixView<S>;
  return [&field, batch, d, x, a, v, f, jv, xb, vb, g, tb]() mutable {
    field.forward(S(0.5), CV(x.data(), batch, d), MV(f.data(), batch, d));
    field.vjp(S(0.5), CV(x.data(), batch, d), CV(a.data(), batch, d), f.data(),
              MV(xb.data(), batch, d), g.data(), &tb);
    field.vjp(S(0.5), CV(x.data(), batch, d), CV(a.data(), batch, d), nullptr,
              MV(xb.data(), batch, d), g.data(), &tb);
    field.jvp(S(0.5), CV(x.data(), batch, d), CV(v.data(), batch, d), MV(f.data(), batch, d),
              MV(jv.data(), batch, d));
    field.jvp_vjp(S(0.5), CV(x.data(), batch, d), CV(v.data(), batch, d), CV(a.data(), batch, d),
                  CV(a.data(), batch, d), MV(xb.data(), batch, d), MV(vb.data(), batch, d),
                  g.data(), &tb);
  };
}

// Allocations of the second round at `batch` after first calls at `batch` and at a smaller
// batch in between (buffers grow and are never shrunk, so alternating sizes allocate nothing).
template <class S>
long field_allocations(LayerField<S>& field, Index batch) {
  auto at_batch = field_products(field, batch);
  auto at_small = field_products(field, std::max<Index>(1, batch / 3));
  at_batch();
  at_small();
  return allocations_in(at_batch) + allocations_in(at_small);
}

TEST(NoAllocation, SpiralFieldAfterFirstCall) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  for (Index batch : {20, 512}) {
    LayerField<float> field(testing::spiral<float>());
    init_default(field, 1);
    EXPECT_EQ(field_allocations(field, batch), 0) << "batch " << batch;
  }
}

TEST(NoAllocation, ConcatMlpFieldAfterFirstCall) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  LayerField<float> field(testing::concat_mlp<float>(64, 256));
  init_default(field, 1);
  EXPECT_EQ(field_allocations(field, 256), 0);
  LayerField<double> fd(testing::concat_mlp<double>(64, 256));
  init_default(fd, 1);
  EXPECT_EQ(field_allocations(fd, 256), 0);
}

TEST(NoAllocation, DeepCompositionAfterFirstCall) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  LayerField<double> field(testing::deep_composition<double>());
  init_default(field, 1);
  EXPECT_EQ(field_allocations(field, 7), 0);
}

TEST(NoAllocation, EveryRegisteredLayerAfterFirstCall) {
  if (!alloc_count::is_live()) GTEST_SKIP() << "allocation counter not active (sanitizer build?)";
  for (const auto& e : layer_registry()) {
    auto layer = e.make<double>();
    const Index in = layer->in_features(), out = layer->out_features();
    std::vector<double> p(static_cast<std::size_t>(layer->num_params())), g(p.size());
    init_default(std::span<double>(p), layer->param_specs(), 2);
    layer->bind(p.data());
    auto* tangent = layer->tangent();
    ASSERT_NE(tangent, nullptr) << e.name;
    auto products = [&](Index b) {
      Matrix<double> x = Matrix<double>::Constant(b, in, 0.4), v = x, xb = x, vb = x;
      Matrix<double> y(b, out), yd(b, out), a = Matrix<double>::Constant(b, out, 0.7);
      // The caller owns the contexts: allocated here, once per batch size, not in the calls.
      std::vector<double> ctx(static_cast<std::size_t>(layer->context_size(b) + 1)),
          tctx(static_cast<std::size_t>(tangent->tangent_context_size(b) + 1));
      double tb = 0;
      return std::function<void()>([&, b, x, v, xb, vb, y, yd, a, tb, ctx, tctx]() mutable {
        using CV = ConstMatrixView<double>;
        using MV = MatrixView<double>;
        layer->forward(0.6, CV(x.data(), b, in), MV(y.data(), b, out), ctx.data());
        layer->backward(0.6, CV(x.data(), b, in), ctx.data(), CV(a.data(), b, out),
                        MV(xb.data(), b, in), g.data(), &tb);
        layer->forward(0.6, CV(x.data(), b, in), MV(y.data(), b, out), nullptr);
        tangent->forward_tangent(0.6, CV(x.data(), b, in), CV(v.data(), b, in),
                                 MV(y.data(), b, out), MV(yd.data(), b, out), tctx.data());
        tangent->backward_tangent(0.6, CV(x.data(), b, in), CV(v.data(), b, in), tctx.data(),
                                  CV(a.data(), b, out), CV(a.data(), b, out), MV(xb.data(), b, in),
                                  MV(vb.data(), b, in), g.data(), &tb);
      });
    };
    auto at6 = products(6), at2 = products(2);
    at6();
    at2();
    EXPECT_EQ(allocations_in(at6), 0) << e.name << " at batch 6";
    EXPECT_EQ(allocations_in(at2), 0) << e.name << " at batch 2";
  }
}

}  // namespace
}  // namespace neuralode::nn
