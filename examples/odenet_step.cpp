// One SGD step of an ODE-Net (Chen et al. 2018) on a random batch: build the classifier, run it,
// take the cross-entropy and its gradient through the ODE block by the adjoint method.
#include <cmath>
#include <iostream>
#include <neuralode/models.hpp>
#include <neuralode/nn/init.hpp>
#include <neuralode/train/optimizer.hpp>
#include <vector>

using namespace neuralode;

int main() {
  models::ImageClassifier<float> net({.model = "odenet"});  // tol 1e-3  // 28x28, 10 classes
  net.init(/*seed=*/0);
  const Index batch = 8, pixels = net.input_features();
  Matrix<float> x(batch, pixels), logits(batch, 10), dlogits(batch, 10);
  nn::Rng rng(1);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform());  // [0, 1)
  std::vector<int> labels(static_cast<std::size_t>(batch));
  for (Index i = 0; i < batch; ++i) labels[static_cast<std::size_t>(i)] = static_cast<int>(i % 10);

  train::Sgd<float> sgd({.lr = 0.1, .momentum = 0.9});
  std::vector<float> grad(static_cast<std::size_t>(net.num_params()));
  double first_loss = 0, loss = 0;
  for (int step = 0; step < 3; ++step) {
    net.forward({x.data(), batch, pixels}, {logits.data(), batch, 10});
    MatrixView<float> dl(dlogits.data(), batch, 10);
    loss = models::softmax_cross_entropy<float>({logits.data(), batch, 10}, labels, &dl).loss;
    if (step == 0) first_loss = loss;
    net.backward({dlogits.data(), batch, 10}, grad);  // through the ODE block by the adjoint
    sgd.step(net.params(), grad);
    std::cout << "step " << step << ": loss " << loss << ", NFE " << net.last_nfe_forward()
              << " forward / " << net.last_nfe_backward() << " backward\n";
  }
  std::cout << net.describe() << "\n";
  // Three steps on one batch must lower its loss.
  return std::isfinite(loss) && loss < first_loss ? 0 : 1;
}
