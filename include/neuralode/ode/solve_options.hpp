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
  // Proportional-integral-derivative controller in the form of diffrax's PIDController
  // (Söderlind 2003, "Digital filters in adaptive time-stepping"; Söderlind & Wang 2006): with
  // k = q + 1 and the scaled errors of this and the two previous accepted steps,
  // h_new = h * safety * err_n^(-(pcoeff + icoeff + dcoeff)/k) * err_{n-1}^((pcoeff + 2 dcoeff)/k)
  //                    * err_{n-2}^(-dcoeff/k).
  // pcoeff = dcoeff = 0, icoeff = 1 is the I controller bit for bit; (k beta, 1 - 1.75 k beta, 0)
  // is PI. Around the formula all three share the DOPRI5 code's rules (which diffrax does not):
  // accepted factors clamped to [dfactor, ifactor] and to <= 1 right after a rejection, a
  // rejected step shrunk by the I formula, the error history starting at 1e-4
  // (src/ode/step_size_controller.hpp says why).
  pid,
};
std::string_view to_string(Controller c);
Controller parse_controller(std::string_view word);  // "i", "pi" or "pid"; throws InvalidArgument

struct SolveOptions {
  // ---- Method ----
  // A name from the registry (ode::method_names()). dopri5 is torchdiffeq's and diffrax's default.
  std::string method = "dopri5";

  // ---- Error control (adaptive methods) ----
  // A step is accepted when RMS(err_i / (atol_i + rtol * max(|y0_i|, |y1_i|))) <= 1 over the whole
  // batch. torchdiffeq's defaults; loosen to ~1e-3 while training, tighten to ~1e-10 when
  // comparing gradients against finite differences (in double).
  //
  // Tolerances below what the scalar type resolves are refused (InvalidArgument, before any
  // work): rtol below the unit roundoff u = eps/2 of the type the solve runs in (1.1e-16 for
  // double, 6e-8 for float) together with an atol (or an atol_per_component entry) below u as
  // well. Such a request cannot be honoured (rounding alone is u relative) and used to run towards
  // max_num_steps for tens of minutes. We follow scipy's solve_ivp (validate_tol: rtol below
  // 100 eps is raised, with a warning) and MATLAB's odearguments (RelTol below 100 eps is raised),
  // but refuse instead of changing the request silently, and only below u rather than 100 eps:
  // torchdiffeq's default rtol = 1e-7 is 0.84 eps of float and works there. A tiny rtol with a
  // usable atol is pure absolute control and is accepted.
  double rtol = 1e-7;
  double atol = 1e-9;
  // Per-component absolute tolerances; empty = `atol` everywhere. Size dim (applied to every
  // sample in the batch) or batch*dim.
  std::vector<double> atol_per_component;
  // Per-component weights in the error norm; empty = all 1. A weight of 0 removes a component
  // from step-size control (a seminorm, as Kidger et al. 2021). Size dim or batch*dim. The mean
  // still divides by every component (as diffrax's adjoint_rms_seminorm), so masking only ever
  // lowers the norm: fewer rejected steps, never more. (The adjoint masks its parameter gradient,
  // a quadrature, with quadrature_norm_weight below, not with a P-sized vector here.) All zeros
  // would switch error control off without saying so: an adaptive solve refuses them unless a
  // quadrature with quadrature_norm_weight > 0 is still in the norm (use step_size for fixed
  // steps without error control).
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
  // odeint predicts the number of steps, |t1 - t0| / step_size, and refuses a solve that would
  // take more than max_num_steps before taking any; a step below 16 eps max(|t0|, |t1|), which
  // the time axis cannot resolve, is refused as well.
  double step_size = 0.0;
  // Explicit step grid (strictly monotone, same direction as the output times, covering them);
  // outputs between grid points use dense output. Exclusive with step_size (both set is refused:
  // one of them would be ignored). Its steps up to the last output time count against
  // max_num_steps up front, as step_size's do.
  std::vector<double> grid;

  // ---- Step-size control (adaptive methods) ----
  // Initial step of an adaptive solve, a magnitude (the direction comes from the times); 0 =
  // chosen automatically (Hairer, Norsett & Wanner I, section II.4). It must lie in
  // [min_step, max_step] and not exceed |t1 - t0| (as scipy's solve_ivp requires); a fixed-step
  // solve (no error estimate, step_size or grid) has no use for it and refuses it.
  double first_step = 0.0;
  // Multiplier on the optimal step; < 1 leaves a margin so fewer steps are rejected.
  double safety = 0.9;
  // Largest growth and smallest shrink factor of the step size per step (torchdiffeq's names).
  // dfactor < 1: a rejected step must shrink, or the solve repeats the same failed step.
  double ifactor = 10.0;
  double dfactor = 0.2;
  // Bounds on |h|. min_step = 0 means only the underflow checks apply: a step below 16 eps |t|
  // throws SolveError, and so do 100 attempts in a row below 16 eps |t1 - t0| (a size at which
  // the interval would take over 10^14 steps). The span test keeps the check alive near t = 0,
  // where 16 eps |t| vanishes and a solve could creep on with subnormal steps for ever (CVODE
  // likewise bounds its first step below by 100 u max(|t0|, |tout|)); the 100 let a small first
  // step grow out of it. A first_step or max_step below 16 eps |t1 - t0| is refused up front. A
  // step pinned at min_step is accepted whatever its error.
  double min_step = 0.0;
  double max_step = std::numeric_limits<double>::infinity();
  Controller controller = Controller::pi;
  // beta of the PI controller; 0.04 is the DOPRI5 code's default (Hairer & Wanner). Ignored by
  // Controller::i.
  double pi_beta = 0.04;
  // Coefficients of Controller::pid, diffrax's names and defaults (pcoeff = 0, icoeff = 1,
  // dcoeff = 0: the I controller). diffrax's docs suggest pcoeff = 0.3, icoeff = 0.3 for
  // moderate problems (Söderlind's H211b family), pcoeff = 0.4, icoeff = 0.3 for stiff ones. Each
  // must be finite, and icoeff > 0 (without the integral term the step does not follow the
  // error). Ignored by the other controllers.
  double pcoeff = 0.0;
  double icoeff = 1.0;
  double dcoeff = 0.0;
  // Hard cap on attempted steps (accepted + rejected) of one solve; hitting it throws SolveError
  // with t, h and the counts. Fixed-step solves are checked against it before the first step.
  // 10^6 stops a runaway solve (tolerances far too tight for the problem, an interval of 1e300,
  // a blown-up field) in well under a second on the built-in problems (about 6 million
  // dopri5/heun_euler steps a second at dim 2) and in seconds on the training programs' fields,
  // where torchdiffeq's 2^31 - 1 ran for tens of minutes. Everything in this repository needs far
  // less (training solves take 3-100 steps; every test passes under the cap); the largest known
  // need is heun_euler at rtol = 1e-10 (1.7 M steps on `linear`), for which `bench solvers`
  // allows 10^7. Julia's DifferentialEquations caps at 10^5, diffrax at 4096. Raise it for a
  // long solve you know needs it (`neuralode solve --max-steps`).
  std::int64_t max_num_steps = 1'000'000;

  // Every check that needs no solve: positive finite tolerances and not both below what the
  // scalar type resolves (`scalar_epsilon`: the machine epsilon of the type the solve runs in),
  // factors in range, contradicting fields (grid with step_size, first_step with fixed steps or
  // outside [min_step, max_step]), sizes of the per-component vectors against `dim` and
  // batch*dim (pass 0 to skip those), a known method and controller. Throws InvalidArgument
  // naming the field, its value and what is accepted. odeint calls it, then checks what needs the
  // problem (times, y0, the step count of a fixed-step solve).
  void validate(std::int64_t batch = 0, std::int64_t dim = 0,
                double scalar_epsilon = std::numeric_limits<double>::epsilon()) const;
};

}  // namespace neuralode::ode
