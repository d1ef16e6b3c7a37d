// The spiral demo (torchdiffeq's examples/ode_demo.py, reproduced setting by setting): the true
// dynamics dy/dt = (y^3) A, A = [[-0.1, 2], [-2, -0.1]], y0 = [2, 0], observed at
// linspace(0, 25, 1000); a field Linear(2,50) -> tanh -> Linear(50,2) applied to y^3, weights
// N(0, 0.1^2) and biases 0; RMSprop; mean absolute error on random windows.
#include "neuralode/train/spiral.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>

#include "common/text.hpp"
#include "metric_columns.hpp"
#include "neuralode/error.hpp"
#include "neuralode/grad.hpp"
#include "neuralode/nn/activation.hpp"
#include "neuralode/nn/init.hpp"
#include "neuralode/nn/layer_field.hpp"
#include "neuralode/nn/linear.hpp"
#include "neuralode/nn/sequential.hpp"
#include "neuralode/nn/threads.hpp"
#include "neuralode/ode.hpp"
#include "neuralode/train/checkpoint.hpp"
#include "neuralode/train/figure.hpp"
#include "neuralode/train/metrics_log.hpp"
#include "neuralode/train/optimizer.hpp"
#include "neuralode/train/progress.hpp"

namespace neuralode::train {

using detail::cat;
using detail::num;

void SpiralOptions::validate() const {
  auto positive = [](const char* name, double v) {
    if (!(v > 0)) throw InvalidArgument(cat("spiral: --", name, " = ", num(v), " must be > 0"));
  };
  positive("iters", iters);
  positive("batch-size", batch_size);
  positive("lr", lr);
  positive("test-freq", test_freq);
  positive("threads", threads);
  positive("t-end", t_end);
  if (batch_time < 2)
    throw InvalidArgument(cat("spiral: --batch-time = ", batch_time, " must be >= 2"));
  if (data_size < batch_time + batch_size)
    throw InvalidArgument(cat("spiral: data_size = ", data_size,
                              " must be >= batch_time + batch_size = ", batch_time + batch_size,
                              " (windows are drawn without replacement)"));
  if (dtype != "float32" && dtype != "float64")
    throw InvalidArgument(
        cat("spiral: --dtype '", dtype, "' is not accepted; accepted: float32, float64"));
  grad::GradOptions g;
  g.method = grad;
  g.adjoint_norm = grad::parse_adjoint_norm(adjoint_norm);
  g.validate();
  ode::SolveOptions s;
  s.method = method;
  s.rtol = rtol;
  s.atol = atol;
  s.validate();
}

namespace {

// The true trajectory, data_size x 2, in double: torchdiffeq computes it with dopri5 too; we use
// tight tolerances so the data carry no solver error worth mentioning.
Matrix<double> true_trajectory(const SpiralOptions& o, std::vector<double>& t) {
  t.resize(static_cast<std::size_t>(o.data_size));
  for (int i = 0; i < o.data_size; ++i)
    t[static_cast<std::size_t>(i)] = o.t_end * i / (o.data_size - 1);
  auto lambda = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    const double a = y(0, 0) * y(0, 0) * y(0, 0), b = y(0, 1) * y(0, 1) * y(0, 1);
    dy(0, 0) = a * -0.1 + b * -2.0;  // (y^3) A with A = [[-0.1, 2.0], [-2.0, -0.1]]
    dy(0, 1) = a * 2.0 + b * -0.1;
  };
  Matrix<double> y0(1, 2);
  y0 << 2.0, 0.0;
  ode::SolveOptions opt;
  opt.rtol = 1e-10;
  opt.atol = 1e-12;
  ode::Solution<double> sol = ode::odeint(lambda, y0, t, opt);
  return sol.ys;  // data_size x 2
}

template <class Scalar>
std::unique_ptr<nn::LayerField<Scalar>> spiral_field() {
  auto root = std::make_unique<nn::Sequential<Scalar>>(
      std::make_unique<nn::Activation<Scalar>>(nn::ActivationFn::cube, 2),
      std::make_unique<nn::Linear<Scalar>>(2, 50),
      std::make_unique<nn::Activation<Scalar>>(nn::ActivationFn::tanh, 50),
      std::make_unique<nn::Linear<Scalar>>(50, 2));
  return std::make_unique<nn::LayerField<Scalar>>(std::move(root));
}

// ode_demo's initialisation: nn.init.normal_(weight, 0, 0.1), nn.init.constant_(bias, 0).
template <class Scalar>
void init_spiral_field(nn::LayerField<Scalar>& field, std::uint64_t seed) {
  nn::Rng rng(seed);
  auto params = field.params();
  for (const nn::ParamView& v : field.param_views()) {
    std::span<Scalar> block =
        params.subspan(static_cast<std::size_t>(v.offset), static_cast<std::size_t>(v.size()));
    if (v.name.ends_with("weight"))
      nn::normal(block, 0.1, rng);
    else
      std::fill(block.begin(), block.end(), Scalar(0));
  }
}

std::string config_json(const SpiralOptions& o) {
  nlohmann::json j = {{"iters", o.iters},
                      {"batch_size", o.batch_size},
                      {"batch_time", o.batch_time},
                      {"lr", o.lr},
                      {"test_freq", o.test_freq},
                      {"seed", o.seed},
                      {"method", o.method},
                      {"rtol", o.rtol},
                      {"atol", o.atol},
                      {"grad", o.grad},
                      {"adjoint_norm", o.adjoint_norm},
                      {"data_size", o.data_size},
                      {"t_end", o.t_end},
                      {"dtype", o.dtype},
                      {"optimizer", "rmsprop"}};
  return j.dump();
}

template <class Scalar>
void write_figures(const SpiralOptions& o, const std::vector<double>& t,
                   const Matrix<double>& truth, const Matrix<double>& pred,
                   nn::LayerField<Scalar>& field, SpiralResult& result) {
  const Index N = truth.rows();
  std::vector<double> tx(t.begin(), t.end()), true_x(N), true_y(N), pred_x(N), pred_y(N);
  for (Index i = 0; i < N; ++i) {
    true_x[i] = truth(i, 0), true_y[i] = truth(i, 1);
    pred_x[i] = pred(i, 0), pred_y[i] = pred(i, 1);
  }
  Figure fig(FigureOptions{.width_px = 1500,
                           .height_px = 460,
                           .rows = 1,
                           .cols = 3,
                           .title = "neuralode spiral demo (" + o.grad + ", " + o.method + ")"});
  const Color blue = cycle_color(0), orange = cycle_color(1);
  fig.panel(0, 0)
      .set_title("Trajectories")
      .set_xlabel("t")
      .set_ylabel("x, y")
      .line(tx, true_x, {.color = blue, .label = "x true"})
      .line(tx, pred_x, {.color = blue, .dashed = true, .label = "x predicted"})
      .line(tx, true_y, {.color = orange, .label = "y true"})
      .line(tx, pred_y, {.color = orange, .dashed = true, .label = "y predicted"});
  fig.panel(0, 1)
      .set_title("Phase portrait")
      .set_xlabel("x")
      .set_ylabel("y")
      .set_xlim(-2, 2)
      .set_ylim(-2, 2)
      .set_equal_aspect()
      .line(true_x, true_y, {.color = blue, .label = "true"})
      .line(pred_x, pred_y, {.color = orange, .dashed = true, .label = "predicted"});
  // The learned vector field on a 21 x 21 grid, arrows normalised to unit length (as ode_demo).
  const int G = 21;
  Matrix<Scalar> grid(G * G, 2), f(G * G, 2);
  for (int i = 0; i < G; ++i)
    for (int j = 0; j < G; ++j) {
      grid(i * G + j, 0) = static_cast<Scalar>(-2.0 + 4.0 * j / (G - 1));
      grid(i * G + j, 1) = static_cast<Scalar>(-2.0 + 4.0 * i / (G - 1));
    }
  field.forward(Scalar(0), ConstMatrixView<Scalar>(grid.data(), G * G, 2),
                MatrixView<Scalar>(f.data(), G * G, 2));
  std::vector<double> gx(G * G), gy(G * G), u(G * G), v(G * G);
  for (int k = 0; k < G * G; ++k) {
    const double fu = static_cast<double>(f(k, 0)), fv = static_cast<double>(f(k, 1));
    const double mag = std::max(std::hypot(fu, fv), 1e-12);
    gx[k] = static_cast<double>(grid(k, 0)), gy[k] = static_cast<double>(grid(k, 1));
    u[k] = fu / mag, v[k] = fv / mag;
  }
  fig.panel(0, 2)
      .set_title("Learned vector field")
      .set_xlabel("x")
      .set_ylabel("y")
      .set_xlim(-2.2, 2.2)
      .set_ylim(-2.2, 2.2)
      .set_equal_aspect()
      .arrows(gx, gy, u, v, {.color = Color::hex(0x444444)});
  result.figure = o.out / "spiral.png";
  fig.save(result.figure);
  fig.save(o.out / "spiral.svg");

  auto c = detail::read_metric_columns(o.out / "metrics.jsonl", "iter",
                                       {"iter", "loss", "nfe_forward", "nfe_backward"});
  if (c["iter"].empty()) return;
  Figure training(FigureOptions{.width_px = 1100,
                                .height_px = 420,
                                .rows = 1,
                                .cols = 2,
                                .title = "Training (" + o.grad + ")"});
  training.panel(0, 0)
      .set_title("Whole-trajectory loss")
      .set_xlabel("iteration")
      .set_ylabel("mean |pred - true|")
      .set_log_y()
      .line(c["iter"], c["loss"], {.label = "loss"});
  training.panel(0, 1)
      .set_title("Function evaluations per step")
      .set_xlabel("iteration")
      .set_ylabel("NFE")
      .line(c["iter"], c["nfe_forward"], {.label = "forward"})
      .line(c["iter"], c["nfe_backward"], {.label = "backward"});
  result.training_figure = o.out / "training.png";
  training.save(result.training_figure);
}

template <class Scalar>
SpiralResult train(const SpiralOptions& o, std::ostream& log) {
  nn::set_num_threads(o.threads);
  std::filesystem::create_directories(o.out);
  std::vector<double> t_all;
  const Matrix<double> truth = true_trajectory(o, t_all);

  auto field_ptr = spiral_field<Scalar>();
  nn::LayerField<Scalar>& field = *field_ptr;
  RmsProp<Scalar> optimizer(RmsPropOptions{.lr = o.lr});
  std::mt19937_64 rng(o.seed);
  std::int64_t start = 0;
  const std::filesystem::path ckpt_path = o.out / "checkpoint.safetensors";
  if (o.resume) {
    const Checkpoint ck = read_checkpoint(ckpt_path);
    get_params<Scalar>(ck, field.param_views(), field.params());
    optimizer.load_state(get_optimizer_state<Scalar>(ck));
    get_rng_state(ck, rng);
    start = get_iteration(ck);
    if (start > o.iters)
      throw InvalidArgument(
          cat("spiral: the checkpoint is at iteration ", start, ", past --iters = ", o.iters));
  } else {
    init_spiral_field(field, o.seed);
  }
  MetricsLog metrics(
      o.out / "metrics.jsonl",
      {.append = o.resume, .drop_after_iteration = o.resume ? start : -1, .iteration_key = "iter"});

  grad::GradOptions gopt;
  gopt.method = o.grad;
  gopt.adjoint_norm = grad::parse_adjoint_norm(o.adjoint_norm);
  auto method = grad::make_gradient_method<Scalar>(gopt);
  ode::SolveOptions sopt;
  sopt.method = o.method;
  sopt.rtol = o.rtol;
  sopt.atol = o.atol;

  const Index B = o.batch_size, T = o.batch_time, n = 2 * B;
  const Index windows = o.data_size - o.batch_time;
  std::vector<Scalar> batch_t(static_cast<std::size_t>(T)), all_t(t_all.begin(), t_all.end());
  for (Index i = 0; i < T; ++i)
    batch_t[static_cast<std::size_t>(i)] = static_cast<Scalar>(t_all[static_cast<std::size_t>(i)]);
  Matrix<Scalar> y0(B, 2), target(T, n), dl(T, n), true_y0(1, 2);
  true_y0 << static_cast<Scalar>(truth(0, 0)), static_cast<Scalar>(truth(0, 1));
  std::vector<Index> order(static_cast<std::size_t>(windows));
  grad::Gradients<Scalar> g;
  ode::SolverWorkspace<Scalar> test_ws;
  ode::Solution<Scalar> test_sol;

  Progress progress(o.iters, log, !o.quiet && is_terminal(log),
                    ProgressOptions{.start_iteration = start});
  SpiralResult result;
  double test_loss = std::numeric_limits<double>::quiet_NaN();
  std::int64_t nfe_f = 0, nfe_b = 0, steps_here = 0, nfe_f_window = 0, nfe_b_window = 0,
               steps_window = 0;
  auto t_window = std::chrono::steady_clock::now();
  auto whole_trajectory_loss = [&] {
    ode::odeint<Scalar>(field, ConstMatrixView<Scalar>(true_y0.data(), 1, 2), all_t, sopt, test_ws,
                        test_sol);
    double s = 0;
    for (Index i = 0; i < truth.rows(); ++i)
      for (Index d = 0; d < 2; ++d)
        s += std::abs(static_cast<double>(test_sol.ys(i, d)) - truth(i, d));
    return s / static_cast<double>(truth.size());
  };

  double timed_seconds = 0;
  std::int64_t timed_steps = 0;
  for (std::int64_t it = start + 1; it <= o.iters; ++it) {
    const auto step_start = std::chrono::steady_clock::now();
    // ode_demo's get_batch: batch_size distinct window starts, uniformly without replacement
    // (partial Fisher-Yates), then batch_time consecutive points from each.
    for (Index i = 0; i < windows; ++i) order[static_cast<std::size_t>(i)] = i;
    for (Index i = 0; i < B; ++i) {
      std::uniform_int_distribution<Index> pick(i, windows - 1);
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(pick(rng))]);
    }
    for (Index b = 0; b < B; ++b) {
      const Index s = order[static_cast<std::size_t>(b)];
      for (Index d = 0; d < 2; ++d) y0(b, d) = static_cast<Scalar>(truth(s, d));
      for (Index i = 0; i < T; ++i)
        for (Index d = 0; d < 2; ++d) target(i, 2 * b + d) = static_cast<Scalar>(truth(s + i, d));
    }
    const auto& sol =
        method->forward(field, ConstMatrixView<Scalar>(y0.data(), B, 2), batch_t, sopt);
    // Mean absolute error and its derivative sign(pred - true) / count.
    const Scalar inv = Scalar(1) / static_cast<Scalar>(T * n);
    double loss = 0;
    for (Index k = 0; k < dl.size(); ++k) {
      const Scalar diff = sol.ys.data()[k] - target.data()[k];
      loss += std::abs(static_cast<double>(diff));
      dl.data()[k] = diff > 0 ? inv : (diff < 0 ? -inv : Scalar(0));
    }
    loss /= static_cast<double>(dl.size());
    method->backward(ConstMatrixView<Scalar>(dl.data(), T, n), g);
    optimizer.step(field.params(), std::span<const Scalar>(
                                       g.params.data(), static_cast<std::size_t>(g.params.size())));
    if (it - start > o.warmup) {
      timed_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
      ++timed_steps;
    }
    const auto& st = method->stats();
    nfe_f += st.forward.nfe, nfe_b += st.nfe_backward, ++steps_here;
    nfe_f_window += st.forward.nfe, nfe_b_window += st.nfe_backward, ++steps_window;
    if (!o.quiet) progress.update(it, loss, st.forward.nfe, st.nfe_backward);

    if (it % o.test_freq == 0 || it == o.iters) {
      test_loss = whole_trajectory_loss();
      const auto now = std::chrono::steady_clock::now();
      const double ms =
          std::chrono::duration<double, std::milli>(now - t_window).count() / steps_window;
      MetricsRecord rec;
      rec.add("iter", it)
          .add("loss", test_loss)
          .add("train_loss", loss)
          .add("nfe_forward", static_cast<double>(nfe_f_window) / steps_window)
          .add("nfe_backward", static_cast<double>(nfe_b_window) / steps_window)
          .add("ms", ms);
      metrics.write(rec);
      Checkpoint ck;
      put_params<Scalar>(ck, field.param_views(), field.params());
      put_optimizer_state<Scalar>(ck, optimizer.state());
      put_iteration(ck, it);
      put_rng_state(ck, rng);
      ck.metadata[kConfigKey] = config_json(o);
      write_checkpoint(ckpt_path, ck);
      result.checkpoint = ckpt_path;
      t_window =
          std::chrono::steady_clock::now();  // checkpoint and test time are not training time
      nfe_f_window = nfe_b_window = steps_window = 0;
    }
  }
  if (!o.quiet) progress.finish();
  if (std::isnan(test_loss)) test_loss = whole_trajectory_loss();  // nothing left to train

  result.iterations = o.iters;
  result.final_loss = test_loss;
  result.metrics = o.out / "metrics.jsonl";
  if (steps_here > 0) {
    result.ms_per_iter =
        timed_steps > 0 ? 1e3 * timed_seconds / static_cast<double>(timed_steps) : 0;
    result.mean_nfe_forward = static_cast<double>(nfe_f) / static_cast<double>(steps_here);
    result.mean_nfe_backward = static_cast<double>(nfe_b) / static_cast<double>(steps_here);
  }
  if (o.figures) {
    ode::odeint<Scalar>(field, ConstMatrixView<Scalar>(true_y0.data(), 1, 2), all_t, sopt, test_ws,
                        test_sol);
    const Matrix<double> pred = test_sol.ys.template cast<double>();
    write_figures(o, t_all, truth, pred, field, result);
  }
  return result;
}

}  // namespace

SpiralResult train_spiral(const SpiralOptions& options, std::ostream& log) {
  options.validate();
  return options.dtype == "float32" ? train<float>(options, log) : train<double>(options, log);
}

}  // namespace neuralode::train
