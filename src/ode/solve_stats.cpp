// SolveStats: brief() and report().
#include "neuralode/ode/solve_stats.hpp"

#include <cstdio>

#include "common/text.hpp"

namespace neuralode::ode {

std::string SolveStats::brief() const {
  if (nfe < 0) return method + ": not run";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s: %lld steps (%lld rejected), nfe %lld, %.3g ms",
                method.c_str(), static_cast<long long>(num_accepted),
                static_cast<long long>(num_rejected), static_cast<long long>(nfe),
                wall_seconds * 1e3);
  return buf;
}

std::string SolveStats::report() const {
  using detail::num;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "method               %s%s\n"
                "function evaluations %lld\n"
                "accepted steps       %lld\n"
                "rejected steps       %lld\n"
                "first step           %s (requested %s)\n"
                "last step            %s\n"
                "wall time            %.3f ms\n",
                method.c_str(), fixed_step ? " (fixed steps)" : "", static_cast<long long>(nfe),
                static_cast<long long>(num_accepted), static_cast<long long>(num_rejected),
                num(first_step_used).c_str(),
                first_step_requested > 0 ? num(first_step_requested).c_str() : "auto",
                num(last_step).c_str(), wall_seconds * 1e3);
  return buf;
}

}  // namespace neuralode::ode
