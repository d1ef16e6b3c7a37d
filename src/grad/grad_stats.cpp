// GradStats: brief() and report().
#include "neuralode/grad/grad_stats.hpp"

#include <cstdio>

namespace neuralode::grad {

std::string GradStats::brief() const {
  char buf[200];
  std::snprintf(
      buf, sizeof buf, "%s: nfe %lld forward, %lld backward; %.3g MiB kept; %.3g + %.3g ms",
      method.c_str(), static_cast<long long>(forward.nfe), static_cast<long long>(nfe_backward),
      bytes_kept / 1048576.0, forward_seconds * 1e3, backward_seconds * 1e3);
  return buf;
}

std::string GradStats::report() const {
  char buf[800];
  std::snprintf(
      buf, sizeof buf,
      "gradient method      %s\n"
      "forward solve        %s\n"
      "backward evaluations %lld (%lld vector-Jacobian products, %lld recomputed forward)\n"
      "backward steps       %lld accepted, %lld rejected\n"
      "bytes kept (peak)    %zu (%.3f MiB)\n"
      "time                 %.3f ms forward, %.3f ms backward\n",
      method.c_str(), forward.brief().c_str(), static_cast<long long>(nfe_backward),
      static_cast<long long>(num_vjp), static_cast<long long>(nfe_recompute),
      static_cast<long long>(backward_accepted), static_cast<long long>(backward_rejected),
      bytes_kept, bytes_kept / 1048576.0, forward_seconds * 1e3, backward_seconds * 1e3);
  return buf;
}

}  // namespace neuralode::grad
