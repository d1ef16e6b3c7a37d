// Figure, Axes and the series styles: collecting and checking what to draw, and the atomic write
// of the PNG or SVG file. The drawing itself (cairo) is in render.cpp, axes_renderer.hpp and
// canvas.hpp; everything is drawn in pixels (SVG px user units) on a white canvas.
#include "neuralode/plot/figure.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "plot/render.hpp"

namespace neuralode::plot {

using neuralode::detail::cat;
using neuralode::detail::num;

// ---- colours and styles -------------------------------------------------------------------------

Color Color::hex(std::uint32_t rgb) {
  return {((rgb >> 16) & 0xffu) / 255.0, ((rgb >> 8) & 0xffu) / 255.0, (rgb & 0xffu) / 255.0};
}

Color cycle_color(int i) {
  // matplotlib's tab10 (Tableau 10), its default property cycle since 2.0.
  static constexpr std::uint32_t kTab10[] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                             0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
  return Color::hex(kTab10[((i % 10) + 10) % 10]);
}

namespace {

void check_color(const char* style, const std::optional<Color>& color) {
  if (!color) return;
  for (const double c : {color->r, color->g, color->b}) {
    if (!(c >= 0.0 && c <= 1.0)) {
      throw InvalidArgument(cat(style, ": color = (", num(color->r), ", ", num(color->g), ", ",
                                num(color->b), ") must have every channel in [0, 1]"));
    }
  }
}

void check_positive(const char* style, const char* field, double value) {
  if (!(std::isfinite(value) && value > 0.0)) {
    throw InvalidArgument(cat(style, ": ", field, " = ", num(value), " must be finite and > 0"));
  }
}

}  // namespace

void LineStyle::validate() const {
  check_color("LineStyle", color);
  check_positive("LineStyle", "width_px", width_px);
}

void PointStyle::validate() const {
  check_color("PointStyle", color);
  check_positive("PointStyle", "radius_px", radius_px);
}

void ArrowStyle::validate() const {
  check_color("ArrowStyle", color);
  check_positive("ArrowStyle", "width_px", width_px);
  if (!(std::isfinite(scale) && scale >= 0.0)) {
    throw InvalidArgument(
        cat("ArrowStyle: scale = ", num(scale), " must be finite and >= 0 (0 = automatic)"));
  }
}

// ---- Axes: collecting series --------------------------------------------------------------------

Axes& Axes::set_title(std::string title) {
  title_ = std::move(title);
  return *this;
}
Axes& Axes::set_xlabel(std::string label) {
  xlabel_ = std::move(label);
  return *this;
}
Axes& Axes::set_ylabel(std::string label) {
  ylabel_ = std::move(label);
  return *this;
}
Axes& Axes::set_log_y(bool on) {
  log_y_ = on;
  return *this;
}
Axes& Axes::set_equal_aspect(bool on) {
  equal_aspect_ = on;
  return *this;
}

namespace {

void check_limits(const char* what, double lo, double hi) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi)) {
    throw InvalidArgument(
        cat("Axes::", what, ": (", num(lo), ", ", num(hi), ") must be finite with lo < hi"));
  }
}

}  // namespace

Axes& Axes::set_xlim(double lo, double hi) {
  check_limits("set_xlim", lo, hi);
  xlo_ = lo;
  xhi_ = hi;
  return *this;
}
Axes& Axes::set_ylim(double lo, double hi) {
  check_limits("set_ylim", lo, hi);
  ylo_ = lo;
  yhi_ = hi;
  return *this;
}

Axes::Series& Axes::add(Kind kind, const char* what, std::span<const double> xs,
                        std::span<const double> ys, const std::optional<Color>& color,
                        const std::string& label) {
  const std::string name = label.empty() ? cat("series ", series_.size(), " (unlabelled)")
                                         : cat("series \"", label, "\"");
  if (xs.empty()) {
    throw InvalidArgument(cat("Axes::", what, ": ", name, " is empty; give at least one point"));
  }
  if (xs.size() != ys.size()) {
    throw InvalidArgument(cat("Axes::", what, ": ", name, " has ", xs.size(), " x values but ",
                              ys.size(), " y values; they must have the same length"));
  }
  Series s;
  s.kind = kind;
  s.x.assign(xs.begin(), xs.end());
  s.y.assign(ys.begin(), ys.end());
  s.color = color ? *color : cycle_color(next_color_++);
  s.label = label;
  series_.push_back(std::move(s));
  return series_.back();
}

Axes& Axes::line(std::span<const double> xs, std::span<const double> ys, LineStyle style) {
  style.validate();
  Series& s = add(Kind::line, "line", xs, ys, style.color, style.label);
  s.width_px = style.width_px;
  s.dashed = style.dashed;
  return *this;
}

Axes& Axes::points(std::span<const double> xs, std::span<const double> ys, PointStyle style) {
  style.validate();
  Series& s = add(Kind::points, "points", xs, ys, style.color, style.label);
  s.radius_px = style.radius_px;
  return *this;
}

namespace {

// Number of distinct values, treating values closer than `tolerance` as one.
std::size_t num_distinct(std::vector<double> values, double tolerance) {
  std::sort(values.begin(), values.end());
  std::size_t count = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i == 0 || values[i] - values[i - 1] > tolerance) ++count;
  }
  return count;
}

// Data units per unit of (u, v) that make the longest arrow span 0.9 of a grid cell along its
// larger component (see Axes::arrows for how cells are inferred). 0 when every arrow is zero.
double auto_arrow_scale(std::span<const double> x, std::span<const double> y,
                        std::span<const double> u, std::span<const double> v) {
  std::vector<double> xs, ys;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      xs.push_back(x[i]);
      ys.push_back(y[i]);
    }
  }
  if (xs.empty()) return 0.0;
  const auto [xmin, xmax] = std::minmax_element(xs.begin(), xs.end());
  const auto [ymin, ymax] = std::minmax_element(ys.begin(), ys.end());
  const double rx = *xmax - *xmin;
  const double ry = *ymax - *ymin;
  // Positions of a linspace grid differ by rounding only; 1e-9 of the range absorbs that.
  const std::size_t kx = num_distinct(xs, 1e-9 * rx);
  const std::size_t ky = num_distinct(ys, 1e-9 * ry);
  double dx = 0.0;
  double dy = 0.0;
  if (kx * ky == xs.size()) {
    dx = kx > 1 ? rx / static_cast<double>(kx - 1) : 0.0;
    dy = ky > 1 ? ry / static_cast<double>(ky - 1) : 0.0;
  } else {
    const double side = std::max(1.0, std::sqrt(static_cast<double>(xs.size())) - 1.0);
    dx = rx / side;
    dy = ry / side;
  }
  if (dx == 0.0 && dy == 0.0) dx = dy = 1.0;
  if (dx == 0.0) dx = dy;
  if (dy == 0.0) dy = dx;
  double longest = 0.0;  // in cells
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double cells = std::max(std::abs(u[i]) / dx, std::abs(v[i]) / dy);
    if (std::isfinite(cells) && std::isfinite(x[i]) && std::isfinite(y[i])) {
      longest = std::max(longest, cells);
    }
  }
  return longest > 0.0 ? 0.9 / longest : 0.0;
}

}  // namespace

Axes& Axes::arrows(std::span<const double> x, std::span<const double> y, std::span<const double> u,
                   std::span<const double> v, ArrowStyle style) {
  style.validate();
  if (u.size() != x.size() || v.size() != x.size()) {
    const std::string name = style.label.empty() ? cat("series ", series_.size(), " (unlabelled)")
                                                 : cat("series \"", style.label, "\"");
    throw InvalidArgument(cat("Axes::arrows: ", name, " has ", x.size(), " x, ", y.size(), " y, ",
                              u.size(), " u and ", v.size(),
                              " v values; all four must have the same length"));
  }
  Series& s = add(Kind::arrows, "arrows", x, y, style.color, style.label);
  const double scale = style.scale > 0.0 ? style.scale : auto_arrow_scale(x, y, u, v);
  s.x2.resize(x.size());
  s.y2.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    s.x2[i] = x[i] + scale * u[i];
    s.y2[i] = y[i] + scale * v[i];
  }
  s.width_px = style.width_px;
  return *this;
}

// ---- Figure -------------------------------------------------------------------------------------

void FigureOptions::validate() const {
  // 16384^2 RGB pixels is 1 GiB; cairo itself stops at 32767.
  constexpr int kMaxSide = 16384;
  if (width_px < 1 || width_px > kMaxSide || height_px < 1 || height_px > kMaxSide) {
    throw InvalidArgument(cat("FigureOptions: width_px x height_px = ", width_px, " x ", height_px,
                              " must lie in 1 .. ", kMaxSide, " on each side"));
  }
  if (rows < 1 || cols < 1) {
    throw InvalidArgument(
        cat("FigureOptions: rows x cols = ", rows, " x ", cols, " must be at least 1 x 1"));
  }
  check_positive("FigureOptions", "font_size_px", font_size_px);
}

Figure::Figure(FigureOptions options) : options_(std::move(options)) {
  options_.validate();
  panels_.reserve(static_cast<std::size_t>(options_.rows) * options_.cols);
  for (int i = 0; i < options_.rows * options_.cols; ++i) panels_.push_back(Axes{});
}

Figure::Figure(int width_px, int height_px, int rows, int cols)
    : Figure(FigureOptions{
          .width_px = width_px, .height_px = height_px, .rows = rows, .cols = cols}) {}

Axes& Figure::panel(int row, int col) {
  if (row < 0 || row >= options_.rows || col < 0 || col >= options_.cols) {
    throw InvalidArgument(cat("Figure::panel: (", row, ", ", col, ") is outside the ",
                              options_.rows, " x ", options_.cols,
                              " grid; indices are zero-based"));
  }
  return panels_[static_cast<std::size_t>(row) * options_.cols + col];
}

void Figure::save(const std::filesystem::path& path) const {
  std::string extension = path.extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  detail::Format format;
  if (extension == ".png") {
    format = detail::Format::png;
  } else if (extension == ".svg") {
    format = detail::Format::svg;
  } else {
    throw IoError(cat("Figure::save: cannot write '", path.string(), "': unknown extension \"",
                      extension, "\"; use .png or .svg"));
  }
  detail::write_file_atomically(path, detail::encode(options_, panels_, format, path),
                                "Figure::save: cannot write");
}

}  // namespace neuralode::plot
