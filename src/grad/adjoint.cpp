// Adjoint: the continuous adjoint method of Chen et al. (2018), the reference text's augmented
// backward system. The forward solve keeps only the outputs; the backward pass integrates
// [x, a, g] from the last output time to the first, adding dL/dy(t_i) to a at every output time
// and restarting x from the forward's stored y(t_i) there (as torchdiffeq does). Memory does not
// depend on the number of steps; x is integrated backwards, which loses accuracy on strongly
// dissipative dynamics (use checkpoint there). g is the solver's quadrature (AugmentedDynamics),
// integrated in place in the caller's gradient output, so the P-sized buffers are only the
// solver's few quadrature buffers (see SolverWorkspace::resize_quadrature).
#include <algorithm>

#include "grad/augmented_dynamics.hpp"
#include "grad/methods.hpp"
#include "neuralode/ode/odeint.hpp"

namespace neuralode::grad::detail {

namespace {

template <class Scalar>
class Adjoint final : public GradientMethod<Scalar> {
 public:
  using Base = GradientMethod<Scalar>;
  explicit Adjoint(const GradOptions& options) : Base(options) {}

 private:
  void do_forward(ConstMatrixView<Scalar> y0) override {
    ode::odeint<Scalar>(*this->field_, y0, this->times_, this->solve_options_, ws_,
                        this->solution_);
    this->stats_.bytes_kept = ws_.bytes();
  }

  void do_backward(ConstMatrixView<Scalar> dl_dys, Gradients<Scalar>& out) override {
    const ode::Solution<Scalar>& sol = this->solution_;
    const Index n = sol.batch * sol.dim, P = this->field_->num_params(), T = sol.num_times();
    AugmentedDynamics<Scalar> dyn(*this->field_, sol.batch, sol.dim);
    const Index N = dyn.state_size();
    ode::SolveOptions opt = backward_options(this->solve_options_, this->options_);
    const std::vector<double>& forward_grid = this->solve_options_.grid;
    Matrix<Scalar> z = Matrix<Scalar>::Zero(1, N);
    // g accumulates in out.params (zeroed by backward()), carried across the intervals.
    const std::span<Scalar> g(out.params.data(), static_cast<std::size_t>(P));
    // z = [x, a] at the last output time.
    std::copy(sol.state(T - 1).data(), sol.state(T - 1).data() + n, z.data());
    for (Index m = 0; m < n; ++m) z(0, n + m) = dl_dys(T - 1, m);
    for (Index i = T - 1; i >= 1; --i) {
      backward_grid(forward_grid, this->times_[static_cast<std::size_t>(i)],
                    this->times_[static_cast<std::size_t>(i - 1)], opt.grid);
      solve_interval<Scalar>(dyn, z, g, this->times_[static_cast<std::size_t>(i)],
                             this->times_[static_cast<std::size_t>(i - 1)], opt, back_ws_,
                             back_sol_, this->stats_);
      // Restart x from the forward solution; add the loss's direct dependence on y(t_{i-1}).
      std::copy(sol.state(i - 1).data(), sol.state(i - 1).data() + n, z.data());
      for (Index m = 0; m < n; ++m) z(0, n + m) += dl_dys(i - 1, m);
    }
    std::copy(z.data() + n, z.data() + 2 * n, out.y0.data());
    this->stats_.num_vjp = dyn.num_vjp;
    this->stats_.nfe_backward = dyn.num_vjp;
    // The backward workspace (its quadrature buffers are the only P-sized ones: 1 with fixed
    // steps, 3 adaptive with the seminorm, 4 with the full norm), z and the interval's solution
    // rows (2n each), and the dynamics' -a buffer (n). g itself is the caller's out.params.
    this->stats_.bytes_kept =
        std::max(this->stats_.bytes_kept,
                 back_ws_.bytes() +
                     static_cast<std::size_t>(z.size() + back_sol_.ys.size() + n) * sizeof(Scalar));
  }

  ode::SolverWorkspace<Scalar> ws_, back_ws_;
  ode::Solution<Scalar> back_sol_;
};

}  // namespace

template <class Scalar>
std::unique_ptr<GradientMethod<Scalar>> make_adjoint(const GradOptions& options) {
  return std::make_unique<Adjoint<Scalar>>(options);
}
template std::unique_ptr<GradientMethod<float>> make_adjoint<float>(const GradOptions&);
template std::unique_ptr<GradientMethod<double>> make_adjoint<double>(const GradOptions&);

}  // namespace neuralode::grad::detail
