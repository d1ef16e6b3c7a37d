// SolveOptions: everything that controls one solve, with torchdiffeq's names and defaults where
// they make sense, so that settings carry over from Python.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace neuralode::ode {

// How an adaptive method picks the next step from the error estimate.
enum class Controller {
  // Integral controller: h_new = h * safety * err^(-1/(q+1)) (torchdiffeq's only controller).
  i,
  // Proportional-integral controller of Gustafsson (1991) as in Hairer & Wanner's DOPRI5 code:
  // h_new = h * safety * err^(-(1/(q+1) - 0.75 beta)) * err_prev^beta. Smoother step sequences,
  // fewer rejections on most problems.
  pi,
};
std::string_view to_string(Controller c);
Controller parse_controller(std::string_view word);  // "i" or "pi"; throws InvalidArgument

struct SolveOptions {
  // ---- Method ----
  // A name from the registry (ode::method_names()). dopri5 is torchdiffeq's and diffrax's default.
  std::string method = "dopri5";

  // ---- Error control (adaptive methods) ----
  // A step is accepted when RMS(err_i / (atol_i + rtol * max(|y0_i|, |y1_i|))) <= 1 over the whole
  // batch. torchdiffeq's defaults; loosen to ~1e-3 while training, tighten to ~1e-10 when
  // comparing gradients against finite differences (in double).
  double rtol = 1e-7;
  double atol = 1e-9;
  // Per-component absolute tolerances; empty = `atol` everywhere. Size dim (applied to every
  // sample in the batch) or batch*dim.
  std::vector<double> atol_per_component;
  // Per-component weights in the error norm; empty = all 1. A weight of 0 removes a component
  // from step-size control (a seminorm, as Kidger et al. 2021). Size dim or batch*dim. The mean
  // still divides by every component (as diffrax's adjoint_rms_seminorm), so masking only ever
  // lowers the norm: fewer rejected steps, never more. (The adjoint masks its parameter gradient,
  // a quadrature, with quadrature_norm_weight below, not with a P-sized vector here.)
  std::vector<double> norm_weights;
  // Weight of every quadrature component (System::quadrature_size() > 0) in the same norm. 1 (the
  // full norm) controls q's error like y's, with scalar `atol` (atol_per_component covers y only)
  // and rtol. 0 is the seminorm of Kidger, Chen & Lyons (2021): q never feeds back into y, so
  // its error need not limit the step; the adjoint's parameter gradient is such a quadrature.
  // Either way every quadrature component counts in the RMS's divisor, exactly as a 0 in
  // norm_weights does, so the result equals what norm_weights would give if q were part of y.
  // One scalar rather than a Q-sized vector: Q can be the model's parameter count.
  double quadrature_norm_weight = 1.0;

  // ---- Fixed steps ----
  // Step size for fixed-step methods. 0 = step from output time to output time (torchdiffeq's
  // behaviour when step_size is None). Set for an adaptive method, it runs that method with
  // fixed steps and no error control. The last step is shortened to land on the final time.
  double step_size = 0.0;
  // Explicit step grid (strictly monotone, same direction as the output times, covering them).
  // Takes precedence over step_size; outputs between grid points use dense output.
  std::vector<double> grid;

  // ---- Step-size control (adaptive methods) ----
  // Initial step; 0 = chosen automatically (Hairer, Norsett & Wanner I, section II.4).
  double first_step = 0.0;
  // Multiplier on the optimal step; < 1 leaves a margin so fewer steps are rejected.
  double safety = 0.9;
  // Largest growth and smallest shrink factor of the step size per step (torchdiffeq's names).
  double ifactor = 10.0;
  double dfactor = 0.2;
  // Bounds on |h|. min_step = 0 means only the underflow check (|h| < 16 eps |t|) applies;
  // a step pinned at min_step is accepted whatever its error.
  double min_step = 0.0;
  double max_step = std::numeric_limits<double>::infinity();
  Controller controller = Controller::pi;
  // beta of the PI controller; 0.04 is the DOPRI5 code's default (Hairer & Wanner). Ignored by
  // Controller::i.
  double pi_beta = 0.04;
  // Hard cap on attempted steps (accepted + rejected); hitting it throws SolveError with t, h.
  std::int64_t max_num_steps = std::numeric_limits<std::int32_t>::max();

  // Every check that needs no solve: positive tolerances, factors in range, sizes of the
  // per-component vectors against `num_components` (batch*dim) and `dim` (pass 0 to skip those),
  // known method. Throws InvalidArgument naming the field, its value and what is accepted.
  void validate(std::int64_t batch = 0, std::int64_t dim = 0) const;
};

}  // namespace neuralode::ode
