// The nested solver and gradient options in a run's configuration JSON (checkpoint metadata,
// config.json), written and compared the same way by every training program. Keys are flat, named
// after the fields (and so after their flags), with the names the first checkpoints used kept:
// method, rtol, atol, max_num_steps, grad (GradOptions::method), adjoint_norm. Options added later
// are `may_be_absent` resume keys: a checkpoint written before they existed holds none of them and
// is compared as if it held the program's default (require_same_config's defaults_config).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "neuralode/grad/grad_options.hpp"
#include "neuralode/ode/solve_options.hpp"
#include "neuralode/train/checkpoint.hpp"

// In the project-wide detail namespace: a train::detail would hide neuralode::detail (cat, num).
namespace neuralode::detail {

// Every SolveOptions field a flag sets: method, rtol, atol, step_size, first_step, max_num_steps,
// controller (its word), pi_beta, pcoeff, icoeff, dcoeff, safety, ifactor, dfactor.
inline void put_solve_config(nlohmann::json& j, const ode::SolveOptions& s) {
  j["method"] = s.method;
  j["rtol"] = s.rtol;
  j["atol"] = s.atol;
  j["step_size"] = s.step_size;
  j["first_step"] = s.first_step;
  j["max_num_steps"] = s.max_num_steps;
  j["controller"] = std::string(ode::to_string(s.controller));
  j["pi_beta"] = s.pi_beta;
  j["pcoeff"] = s.pcoeff;
  j["icoeff"] = s.icoeff;
  j["dcoeff"] = s.dcoeff;
  j["safety"] = s.safety;
  j["ifactor"] = s.ifactor;
  j["dfactor"] = s.dfactor;
}

// Every GradOptions field a flag sets, under `grad_key` for the method ("grad").
inline void put_grad_config(nlohmann::json& j, const grad::GradOptions& g) {
  j["grad"] = g.method;
  j["adjoint_method"] = g.adjoint_method;
  j["adjoint_rtol"] = g.adjoint_rtol;
  j["adjoint_atol"] = g.adjoint_atol;
  j["adjoint_norm"] = std::string(grad::to_string(g.adjoint_norm));
  j["checkpoint_every"] = g.checkpoint_every;
  j["binomial_snapshots"] = g.binomial_snapshots;
}

// The solver fields that define a run, besides method/rtol/atol (which each program lists with
// its own history: ODE-Net records rtol = atol as "tol"). max_num_steps is left out on purpose:
// it is a cap a valid run never reaches, and may change on resume.
inline constexpr train::ResumeKey kSolveResumeKeysAddedLater[] = {
    {"step_size", "--step-size", true},   {"first_step", "--first-step", true},
    {"controller", "--controller", true}, {"pi_beta", "--pi-beta", true},
    {"pcoeff", "--pcoeff", true},         {"icoeff", "--icoeff", true},
    {"dcoeff", "--dcoeff", true},         {"safety", "--safety", true},
    {"ifactor", "--ifactor", true},       {"dfactor", "--dfactor", true}};
// The gradient fields that define a run besides grad (and, for the spiral, adjoint_norm).
inline constexpr train::ResumeKey kGradResumeKeysAddedLater[] = {
    {"adjoint_method", "--adjoint-method", true},
    {"adjoint_rtol", "--adjoint-rtol", true},
    {"adjoint_atol", "--adjoint-atol", true},
    {"checkpoint_every", "--checkpoint-every", true},
    {"binomial_snapshots", "--binomial-snapshots", true}};

}  // namespace neuralode::detail
