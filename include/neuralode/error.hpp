// The exceptions neuralode throws at its public boundary. Callers can act on these; broken internal
// invariants are assertions instead.
#pragma once

#include <stdexcept>
#include <string>

namespace neuralode {

// Base of every neuralode exception; what() names the problem, the accepted values and where.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An argument is outside what is accepted: a tolerance <= 0, a non-monotone time grid, a shape
// mismatch, an unknown method name. Usual cause: a typo or a mis-sized buffer in the caller.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// A solve could not finish: step size underflow, too many steps, NaN/Inf in the state. The message
// carries the time t and step h where it happened. Usual cause: a stiff or blowing-up system, or
// tolerances too tight for the scalar type.
class SolveError : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written, or its contents are malformed (with file and position).
class IoError : public Error {
 public:
  using Error::Error;
};

// A long run stopped because the process received SIGINT or SIGTERM: it finished its current
// step, wrote a checkpoint (what() names it) and stopped. The `neuralode` program exits with
// 128 + signal, as a shell reports a process killed by that signal.
class Interrupted : public Error {
 public:
  Interrupted(const std::string& what, int signal_number)
      : Error(what), signal_number_(signal_number) {}
  int signal_number() const { return signal_number_; }

 private:
  int signal_number_;
};

}  // namespace neuralode
