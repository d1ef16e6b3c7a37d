// PiecewiseConstant: which block serves t (at grid points, in both time directions), and the
// ResNet equivalence under Euler steps on the grid.
#include <gtest/gtest.h>

#include "neuralode/nn.hpp"

namespace neuralode::nn {
namespace {

std::unique_ptr<PiecewiseConstant<double>> three_blocks() {
  return std::make_unique<PiecewiseConstant<double>>(std::vector<double>{0.0, 1.0, 2.0, 3.0}, [] {
    return std::make_unique<Linear<double>>(2, 2);
  });
}

TEST(PiecewiseConstant, ForwardTimeUsesBlockKOnHalfOpenIntervalTkTk1) {
  auto pc = three_blocks();
  EXPECT_EQ(pc->block_at(-1.0), 0);  // before the grid: first block
  EXPECT_EQ(pc->block_at(0.0), 0);
  EXPECT_EQ(pc->block_at(0.999), 0);
  EXPECT_EQ(pc->block_at(1.0), 1);  // a grid point starts the next block
  EXPECT_EQ(pc->block_at(2.0), 2);
  EXPECT_EQ(pc->block_at(3.0), 2);  // the end and beyond: last block
  EXPECT_EQ(pc->block_at(7.0), 2);
}

TEST(PiecewiseConstant, BackwardTimeUsesBlockKOnHalfOpenIntervalTkTk1Closed) {
  auto pc = three_blocks();
  pc->set_time_direction(-1);
  EXPECT_EQ(pc->block_at(3.0), 2);
  EXPECT_EQ(pc->block_at(2.0), 1);  // stepping down from t_2 crosses [t_1, t_2]
  EXPECT_EQ(pc->block_at(1.0), 0);
  EXPECT_EQ(pc->block_at(0.0), 0);
  EXPECT_EQ(pc->block_at(1.5), 1);
  EXPECT_THROW(pc->set_time_direction(0), InvalidArgument);
}

TEST(PiecewiseConstant, RejectsANonIncreasingGrid) {
  auto make = [] { return std::make_unique<Linear<double>>(2, 2); };
  EXPECT_THROW(PiecewiseConstant<double>({0.0}, make), InvalidArgument);
  try {
    PiecewiseConstant<double>({0.0, 1.0, 1.0}, make);
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("grid[2]"), std::string::npos) << e.what();
  }
}

TEST(PiecewiseConstant, EulerOnTheGridIsAResNetWithPerBlockWeights) {
  LayerField<double> field(
      std::make_unique<PiecewiseConstant<double>>(std::vector<double>{0.0, 0.5, 1.0, 1.5}, [] {
        return std::make_unique<Sequential<double>>(
            std::make_unique<Linear<double>>(2, 4),
            std::make_unique<Activation<double>>(ActivationFn::tanh, 4),
            std::make_unique<Linear<double>>(4, 2));
      }));
  init_default(field, 3);
  // The same three blocks as standalone residual blocks on copies of each slice.
  const Index per_block = field.num_params() / 3;
  Matrix<double> x(1, 2), f(1, 2);
  x << 0.3, -0.7;
  Matrix<double> resnet = x;
  for (int k = 0; k < 3; ++k) {
    Sequential<double> block(std::make_unique<Linear<double>>(2, 4),
                             std::make_unique<Activation<double>>(ActivationFn::tanh, 4),
                             std::make_unique<Linear<double>>(4, 2));
    std::vector<double> p(field.params().begin() + k * per_block,
                          field.params().begin() + (k + 1) * per_block);
    block.bind(p.data());
    Matrix<double> in = resnet, out(1, 2);
    block.forward(0, ConstMatrixView<double>(in.data(), 1, 2), MatrixView<double>(out.data(), 1, 2),
                  nullptr);
    resnet = in + 0.5 * out;
  }
  for (int k = 0; k < 3; ++k) {  // Euler with h = 0.5 from t = 0, evaluating at t_k exactly
    field.forward(0.5 * k, ConstMatrixView<double>(x.data(), 1, 2),
                  MatrixView<double>(f.data(), 1, 2));
    x += 0.5 * f;
  }
  EXPECT_EQ(x, resnet);  // the same operations in the same order: bitwise equal
}

}  // namespace
}  // namespace neuralode::nn
