// gradcheck: checks a layer's or a vector field's derivative products (VJP, JVP and the VJP of the
// JVP) against central finite differences, in double precision. Every registered layer runs it in
// the tests; use it on any new layer or composed field before trusting its gradients.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "neuralode/nn/layer.hpp"
#include "neuralode/nn/vector_field.hpp"

namespace neuralode::nn {

struct GradcheckOptions {
  // Central-difference step, applied to one coordinate at a time (x, theta, t, v). The error of
  // (g(p+h) - g(p-h))/2h is h^2/6 |g'''| (truncation) + eps |g| / h (rounding): h = 1e-6 balances
  // them near 1e-10 for O(1) smooth functions. Larger h suits functions with large third
  // derivatives; never go below ~1e-8 in double.
  double h = 1e-6;
  // The time at which to check. NaN (default) draws t uniformly from [0.1, 0.9) with the seed.
  // Set it for layers piecewise in t (PiecewiseConstant) to stay h away from a grid point.
  double t = std::numeric_limits<double>::quiet_NaN();
  // At most this many parameter coordinates are differenced (each costs 4 evaluations); beyond
  // it a seeded random subset is checked. Inputs are always checked in full.
  Index max_param_coordinates = 4000;
};

// Largest error of each product over every checked coordinate, measured as
//   max_i |analytic_i - fd_i| / max(max_i |fd_i|, max_i |analytic_i|, 1)
// i.e. relative to the largest entry, and absolute below 1 (rounding in the differences is
// absolute, ~eps * sum|a*f| / h, so smaller entries cannot be checked to a relative precision).
// Zero means "matched exactly"; NaN means a NaN appeared (e.g. backward did not overwrite x_bar,
// which gradcheck pre-fills with NaN).
struct GradcheckReport {
  std::string subject;   // "Linear 3->4", "LayerField dim 2", ...
  Index batch = 0;       // rows of the random input
  Index num_params = 0;  // parameters of the subject
  Index num_params_checked = 0;
  double h = 0;
  double t = 0;  // time at which it was checked

  double vjp_x = 0;          // a^T df/dx          vs differences of <a, f> in x
  double vjp_theta = 0;      // a^T df/dtheta      (added into a pre-filled theta_bar)
  double vjp_t = 0;          // a^T df/dt          (added into a pre-filled t_bar)
  double jvp = 0;            // (df/dx) v          vs differences of f along v; and f itself
  double jvp_vjp_x = 0;      // d/dx     of <f_bar, f> + <jv_bar, (df/dx) v>
  double jvp_vjp_v = 0;      // d/dv     of the same
  double jvp_vjp_theta = 0;  // d/dtheta of the same
  double jvp_vjp_t = 0;      // d/dt     of the same

  // The largest of the eight errors (NaN if any is NaN).
  double max_error() const;
  // max_error() <= tolerance (false on NaN).
  bool ok(double tolerance = 1e-6) const;
  // One line: subject, max error and which product it came from.
  std::string brief() const;
  // An aligned table of every product's error, for failure messages and logs.
  std::string report() const;
};

// Checks `layer` with a random batch (seeded; inputs drawn away from 0 as sign * U(0.2, 1), so
// element-wise kinks at 0, e.g. relu, are never straddled by a difference). `params` must be the
// slice the layer is bound to (size num_params()); it is perturbed and restored exactly.
GradcheckReport gradcheck(Layer<double>& layer, std::span<double> params, Index batch,
                          std::uint64_t seed, const GradcheckOptions& options = {});

// Same, with parameters drawn by init_default(seed) into a vector gradcheck owns. The layer is
// bound to that vector during the check and to nullptr afterwards: bind it again before use.
GradcheckReport gradcheck(Layer<double>& layer, Index batch, std::uint64_t seed, double h = 1e-6);

// Checks a field's vjp, jvp and jvp_vjp at its current parameters (field.params() is perturbed and
// restored exactly).
GradcheckReport gradcheck(VectorField<double>& field, Index batch, std::uint64_t seed,
                          const GradcheckOptions& options = {});
inline GradcheckReport gradcheck(VectorField<double>& field, Index batch, std::uint64_t seed,
                                 double h) {
  GradcheckOptions options;
  options.h = h;
  return gradcheck(field, batch, seed, options);
}

}  // namespace neuralode::nn
