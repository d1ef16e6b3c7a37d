// oneDNN implementation of Matmul, for large products. Primitives are created once per shape and
// kept (creation costs tens of microseconds); memory objects wrap the caller's buffers per call.
// oneDNN's execution builds an argument map per call, so this path allocates a few small objects
// per product; it is only chosen for products where that is far below 1% of the arithmetic.
#include <oneapi/dnnl/dnnl.hpp>

#include <mutex>
#include <unordered_map>
#include <vector>

#include "nn/backend/matmul.hpp"
#include "nn/detail/omp_threads.hpp"

namespace neuralode::nn::detail {
namespace {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

template <class Scalar>
constexpr dnnl::memory::data_type dnnl_type() {
  static_assert(std::is_same_v<Scalar, float>, "oneDNN 2.6 has f32 matmul, no f64");
  return dnnl::memory::data_type::f32;
}

// A product C (m x n) [+]= A (m x k) B (k x n) [+ bias (1 x n)], each operand given by strides.
struct Key {
  dnnl::memory::dim m, k, n, a_rs, a_cs, b_rs, b_cs, c_rs;
  bool bias, accumulate;
  bool operator==(const Key&) const = default;
};

}  // namespace

template <class Scalar>
class OnednnMatmul final : public Matmul<Scalar> {
 public:
  void forward(ConstMatrixView<Scalar> x, const Scalar* w, Index ldw, const Scalar* b,
               MatrixView<Scalar> y) override {
    const Index m = x.rows(), k = x.cols(), n = y.cols();
    // B = W^T: element (kk, nn) at w[nn * ldw + kk].
    run(Key{m, k, n, k, 1, 1, ldw, n, b != nullptr, false}, x.data(), w, b, y.data());
  }
  void backward_input(ConstMatrixView<Scalar> y_bar, const Scalar* w, Index ldw,
                      MatrixView<Scalar> x_bar) override {
    const Index m = y_bar.rows(), k = y_bar.cols(), n = x_bar.cols();
    run(Key{m, k, n, k, 1, ldw, 1, n, false, false}, y_bar.data(), w, nullptr, x_bar.data());
  }
  void backward_weight(ConstMatrixView<Scalar> y_bar, ConstMatrixView<Scalar> x, Scalar* w_bar,
                       Index ldw) override {
    const Index m = y_bar.cols(), k = y_bar.rows(), n = x.cols();
    // A = y_bar^T: element (mm, kk) at y_bar[kk * out + mm].
    run(Key{m, k, n, 1, m, n, 1, ldw, false, true}, y_bar.data(), x.data(), nullptr, w_bar);
  }

 private:
  struct Entry {
    Key key;
    dnnl::matmul prim;
    dnnl::memory::desc a, b, c, bias;
  };

  void run(const Key& key, const Scalar* a, const Scalar* b, const Scalar* bias, Scalar* c) {
    Entry* e = nullptr;
    for (auto& cand : cache_) {
      if (cand.key == key) e = &cand;
    }
    if (!e) e = &cache_.emplace_back(create(key));
    sync_omp_threads();
    auto& eng = cpu_engine();
    dnnl::stream stream(eng);
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(e->a, eng, const_cast<Scalar*>(a))},
        {DNNL_ARG_WEIGHTS, dnnl::memory(e->b, eng, const_cast<Scalar*>(b))},
        {DNNL_ARG_DST, dnnl::memory(e->c, eng, c)}};
    if (bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(e->bias, eng, const_cast<Scalar*>(bias)));
    e->prim.execute(stream, args);
    stream.wait();
  }

  static Entry create(const Key& key) {
    using dims = dnnl::memory::dims;
    const auto dt = dnnl_type<Scalar>();
    dnnl::memory::desc a(dims{key.m, key.k}, dt, dims{key.a_rs, key.a_cs});
    dnnl::memory::desc b(dims{key.k, key.n}, dt, dims{key.b_rs, key.b_cs});
    dnnl::memory::desc c(dims{key.m, key.n}, dt, dims{key.c_rs, 1});
    dnnl::memory::desc bias(dims{1, key.n}, dt, dims{key.n, 1});
    dnnl::primitive_attr attr;
    if (key.accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      attr.set_post_ops(ops);
    }
    auto desc = key.bias ? dnnl::matmul::desc(a, b, bias, c) : dnnl::matmul::desc(a, b, c);
    dnnl::matmul::primitive_desc pd(desc, attr, cpu_engine());
    return Entry{key, dnnl::matmul(pd), a, b, c, bias};
  }

  std::vector<Entry> cache_;
};

template <class Scalar>
std::unique_ptr<Matmul<Scalar>> make_onednn_matmul() {
  static_assert(std::is_same_v<Scalar, float>);
  return std::make_unique<OnednnMatmul<Scalar>>();
}
template std::unique_ptr<Matmul<float>> make_onednn_matmul<float>();
// oneDNN 2.6 has no f64 matmul on CPU; double products always run on Eigen.

}  // namespace neuralode::nn::detail
