// The method registry: one row per solver. Adding a method is a tableau file in this folder plus
// one row below; option parsing, the CLI help, the docs table and the tests all read this list.
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "neuralode/error.hpp"
#include "neuralode/ode/method_registry.hpp"
#include "ode/methods/methods.hpp"

namespace neuralode::ode {
namespace {

using TableauFunction = const ButcherTableau& (*)();

// Fixed-step methods first, then adaptive pairs by increasing order. The order is part of the
// contract (help texts and error messages list names in it).
constexpr std::array kRows = {
    &detail::euler_tableau,       // Euler, order 1, 1 stage
    &detail::midpoint_tableau,    // explicit midpoint (Runge 1895), order 2
    &detail::heun2_tableau,       // Heun's explicit trapezoid, order 2
    &detail::rk4_tableau,         // classical Runge-Kutta (Kutta 1901), order 4
    &detail::rk4_38_tableau,      // Kutta's 3/8 rule, order 4
    &detail::heun_euler_tableau,  // Heun-Euler, 2(1), adaptive
    &detail::bosh3_tableau,       // Bogacki-Shampine 1989, 3(2), FSAL
    &detail::dopri5_tableau,      // Dormand-Prince 1980, 5(4), FSAL, own 4th-order dense output
    &detail::tsit5_tableau,       // Tsitouras 2011, 5(4), FSAL, own 4th-order dense output
    &detail::dopri8_tableau,      // DOP853 (Dormand-Prince 8(5,3)), 8(5), Hermite dense output
};

using TableauList = std::array<const ButcherTableau*, kRows.size()>;

// Built on first use, so each tableau is constructed (and validated) exactly once, in a
// thread-safe way, whatever the order of static initialization.
const TableauList& registered() {
  static const TableauList list = [] {
    TableauList out{};
    for (std::size_t i = 0; i < kRows.size(); ++i) out[i] = &kRows[i]();
    return out;
  }();
  return list;
}

}  // namespace

std::span<const ButcherTableau* const> all_methods() {
  return registered();
}

const ButcherTableau& find_method(std::string_view name) {
  for (const ButcherTableau* tableau : registered()) {
    if (tableau->name == name) return *tableau;
  }
  throw InvalidArgument("unknown method '" + std::string(name) + "'; accepted: " + method_names());
}

std::string method_names() {
  static const std::string names = [] {
    std::string out;
    for (const ButcherTableau* tableau : registered()) {
      if (!out.empty()) out += ", ";
      out += tableau->name;
    }
    return out;
  }();
  return names;
}

}  // namespace neuralode::ode
