// StopSignal: SIGINT/SIGTERM handlers that only set a flag (see stop_signal.hpp).
#include "neuralode/train/stop_signal.hpp"

#include <signal.h>

#include <atomic>
#include <utility>

#include "common/text.hpp"

namespace neuralode::train {

namespace {

// Written by the handler, read by the loop: a lock-free atomic is async-signal-safe.
std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int sig) {
  // The first signal asks for a clean stop; a second one (the user pressing Ctrl-C again because
  // the current step takes long) gets the default action, which ends the process.
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

}  // namespace

struct StopSignal::Saved {
  struct sigaction int_action;
  struct sigaction term_action;
  int previous_signal;
};

StopSignal::StopSignal() : saved_(new Saved{}) {
  saved_->previous_signal = g_signal.exchange(0);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress continue instead of failing (EINTR)
  // A signal that was ignored stays ignored: a shell starts background jobs (`cmd &` in a script)
  // and nohup-like wrappers with SIGINT ignored so that Ctrl-C meant for the foreground job does
  // not reach them; catching it would undo that (Python's KeyboardInterrupt follows the same rule).
  for (const auto& [sig, saved] :
       {std::pair{SIGINT, &saved_->int_action}, std::pair{SIGTERM, &saved_->term_action}}) {
    ::sigaction(sig, nullptr, saved);
    if (saved->sa_handler != SIG_IGN || (saved->sa_flags & SA_SIGINFO) != 0)
      ::sigaction(sig, &action, nullptr);
  }
}

StopSignal::~StopSignal() {
  ::sigaction(SIGINT, &saved_->int_action, nullptr);
  ::sigaction(SIGTERM, &saved_->term_action, nullptr);
  g_signal.store(saved_->previous_signal);
  delete saved_;
}

bool StopSignal::requested() const {
  return g_signal.load(std::memory_order_relaxed) != 0;
}

int StopSignal::signal_number() const {
  return g_signal.load();
}

Interrupted StopSignal::interrupted(const std::string& where,
                                    const std::filesystem::path& checkpoint) const {
  const int sig = signal_number();
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
  return Interrupted(detail::cat(where, ": stopped by ", name, "; checkpoint written to '",
                                 checkpoint.string(), "'; continue with --resume"),
                     sig);
}

}  // namespace neuralode::train
