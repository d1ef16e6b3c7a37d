// Matmul factory and the size rule of `automatic`.
#include <string>

#include "neuralode/error.hpp"
#include "neuralode/nn/threads.hpp"
#include "nn/backend/matmul.hpp"
#include "nn/backend/matmul_eigen.hpp"

namespace neuralode::nn::detail {

template <class Scalar>
std::unique_ptr<Matmul<Scalar>> make_onednn_matmul();

bool onednn_pays(Index m, Index k, Index n, int threads) {
  // Measured on the development machine (Xeon, AVX-512, 2.1 GHz, one thread, float; bench in
  // docs/nn.md), m x k x n = 256^3: forward 144 GFLOP/s Eigen vs 145 oneDNN, x_bar = y_bar W 90 vs
  // 109, W_bar += y_bar^T x 104 vs 114; for thin and small shapes (k or n <= 64) Eigen wins by
  // 1.5-10x (oneDNN's per-call overhead is ~2 us). So on one thread oneDNN gains at most ~20% on
  // the largest products, and it allocates ~21 blocks per call (measured with the tests' malloc
  // counter), which would break the no-allocation promise: one thread stays on Eigen at every
  // size. With more threads (nn::set_num_threads), oneDNN's OpenMP parallelism is the only way
  // to use them (Eigen is built without OpenMP), so products of >= 2 * 128^3 flops go to oneDNN.
  // Doubt: the n > 1 threshold was not measured (the machine was shared); 128^3 is where a 2-4
  // thread split of the work starts to exceed oneDNN's ~2 us overhead several times over.
  const double flops =
      2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
  return threads > 1 && flops >= 2.0 * 128 * 128 * 128;
}

namespace {

// Eigen below the threshold, oneDNN above; oneDNN's object is made on first use.
template <class Scalar>
class AutoMatmul final : public Matmul<Scalar> {
 public:
  void forward(ConstMatrixView<Scalar> x, const Scalar* w, Index ldw, const Scalar* b,
               MatrixView<Scalar> y) override {
    pick(x.rows(), x.cols(), y.cols()).forward(x, w, ldw, b, y);
  }
  void backward_input(ConstMatrixView<Scalar> y_bar, const Scalar* w, Index ldw,
                      MatrixView<Scalar> x_bar) override {
    pick(y_bar.rows(), y_bar.cols(), x_bar.cols()).backward_input(y_bar, w, ldw, x_bar);
  }
  void backward_weight(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> x, Scalar* w_bar,
                       Index ldw) override {
    pick(y_bar.cols(), y_bar.rows(), x.cols()).backward_weight(y_bar, x, w_bar, ldw);
  }

 private:
  Matmul<Scalar>& pick(Index m, Index k, Index n) {
    if constexpr (std::is_same_v<Scalar, float>) {
      if (onednn_pays(m, k, n, num_threads())) {
        if (!onednn_) onednn_ = make_onednn_matmul<float>();
        return *onednn_;
      }
    }
    return eigen_;
  }
  EigenMatmul<Scalar> eigen_;
  std::unique_ptr<Matmul<Scalar>> onednn_;
};

}  // namespace

template <class Scalar>
std::unique_ptr<Matmul<Scalar>> make_matmul(MatmulBackend backend) {
  switch (backend) {
    case MatmulBackend::eigen:
      return std::make_unique<EigenMatmul<Scalar>>();
    case MatmulBackend::onednn:
      if constexpr (std::is_same_v<Scalar, float>) {
        return make_onednn_matmul<float>();
      } else {
        throw InvalidArgument(
            "make_matmul: oneDNN 2.6 has no double-precision matmul on CPU; "
            "use MatmulBackend::eigen or automatic for double");
      }
    case MatmulBackend::automatic:
      break;
  }
  return std::make_unique<AutoMatmul<Scalar>>();
}

template std::unique_ptr<Matmul<float>> make_matmul<float>(MatmulBackend);
template std::unique_ptr<Matmul<double>> make_matmul<double>(MatmulBackend);

}  // namespace neuralode::nn::detail
