// A user's first program: solve a damped oscillator with neuralode's ODE solver, as an installed
// library (find_package(neuralode) in examples/CMakeLists.txt), and check it against the exact
// solution x(t) = e^{-t/10} cos(w t) (approximately, for small damping) by comparing two methods.
#include <cmath>
#include <cstdio>

#include <neuralode/ode.hpp>

int main() {
  using namespace neuralode;
  // State (x, v); x'' = -x - 0.2 x'. One sample, two components.
  auto oscillator = [](double, ConstMatrixView<double> y, MatrixView<double> dy) {
    dy(0, 0) = y(0, 1);
    dy(0, 1) = -y(0, 0) - 0.2 * y(0, 1);
  };
  Matrix<double> y0(1, 2);
  y0 << 1.0, 0.0;
  std::vector<double> times = {0.0, 2.5, 5.0, 7.5, 10.0};

  ode::SolveOptions options;
  options.method = "tsit5";
  options.rtol = 1e-9;
  options.atol = 1e-11;
  ode::Solution<double> a = ode::odeint(oscillator, y0, times, options);
  options.method = "dopri8";
  ode::Solution<double> b = ode::odeint(oscillator, y0, times, options);

  for (Index i = 0; i < a.num_times(); ++i)
    std::printf("t = %4.1f  x = % .10f  v = % .10f\n", times[i], a.state(i)(0, 0),
                a.state(i)(0, 1));
  std::printf("%s\n%s\n", a.stats.brief().c_str(), b.stats.brief().c_str());

  // The damped oscillator has x(t) = e^{-0.1 t} (cos(w t) + 0.1/w sin(w t)), w = sqrt(0.99).
  const double w = std::sqrt(0.99), t = 10.0;
  const double exact = std::exp(-0.1 * t) * (std::cos(w * t) + 0.1 / w * std::sin(w * t));
  const double err_a = std::abs(a.state(4)(0, 0) - exact),
               err_b = std::abs(b.state(4)(0, 0) - exact);
  std::printf("error at t = 10: tsit5 %.2e, dopri8 %.2e\n", err_a, err_b);
  return (err_a < 1e-7 && err_b < 1e-7) ? 0 : 1;
}
