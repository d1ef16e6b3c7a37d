// Training one's own vector field with neuralode, as an installed library: fit a Neural ODE to
// trajectories of a damped pendulum. The loop is the whole recipe: solve forward with a gradient
// method, form dL/dy at every output time, backward, optimizer step.
#include <cmath>
#include <cstdio>
#include <memory>

#include <neuralode/grad.hpp>
#include <neuralode/nn/activation.hpp>
#include <neuralode/nn/init.hpp>
#include <neuralode/nn/layer_field.hpp>
#include <neuralode/nn/linear.hpp>
#include <neuralode/nn/sequential.hpp>
#include <neuralode/ode.hpp>
#include <neuralode/train/optimizer.hpp>

using namespace neuralode;

int main() {
  // Data: a damped pendulum theta'' = -sin(theta) - 0.1 theta', 16 starting points, 8 output times.
  auto pendulum = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    for (Index b = 0; b < y.rows(); ++b) {
      dy(b, 0) = y(b, 1);
      dy(b, 1) = -std::sin(y(b, 0)) - 0.1 * y(b, 1);
    }
  };
  const Index B = 16, T = 8;
  Matrix<double> y0(B, 2);
  for (Index b = 0; b < B; ++b) y0.row(b) << -1.5 + 3.0 * b / (B - 1), 0.5 * std::cos(b);
  std::vector<double> times(T);
  for (Index i = 0; i < T; ++i) times[i] = 0.25 * i;
  const ode::Solution<double> data = ode::odeint(pendulum, y0, times, {.rtol = 1e-9, .atol = 1e-9});

  // Model: f(x) = Linear(2, 32) -> tanh -> Linear(32, 2), PyTorch's default initialisation.
  nn::LayerField<double> field(std::make_unique<nn::Sequential<double>>(
      std::make_unique<nn::Linear<double>>(2, 32),
      std::make_unique<nn::Activation<double>>(nn::ActivationFn::tanh, 32),
      std::make_unique<nn::Linear<double>>(32, 2)));
  nn::init_default(field, /*seed=*/1);

  auto method = grad::make_gradient_method<double>({.method = "adjoint"});
  train::Adam<double> adam({.lr = 1e-2});
  ode::SolveOptions options{.rtol = 1e-5, .atol = 1e-7};
  Matrix<double> dl(T, B * 2);
  grad::Gradients<double> g;
  double first_loss = 0, loss = 0;
  for (int it = 1; it <= 300; ++it) {
    const ode::Solution<double>& sol =
        method->forward(field, ConstMatrixView<double>(y0.data(), B, 2), times, options);
    // Mean squared error over every output: dL/dy = 2 (pred - true) / count.
    const Matrix<double> diff = sol.ys - data.ys;
    loss = diff.squaredNorm() / static_cast<double>(diff.size());
    dl = 2.0 * diff / static_cast<double>(diff.size());
    method->backward(ConstMatrixView<double>(dl.data(), T, B * 2), g);
    adam.step(field.params(), std::span<const double>(g.params.data(), g.params.size()));
    if (it == 1) first_loss = loss;
    if (it % 100 == 0)
      std::printf("iteration %3d  loss %.3e  %s\n", it, loss, method->stats().brief().c_str());
  }
  std::printf("loss %.3e -> %.3e\n", first_loss, loss);
  return loss < 0.05 * first_loss ? 0 : 1;  // the fit must improve twentyfold
}
