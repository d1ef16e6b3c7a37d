// Figure rendering with cairo: panel layout, ticks, series, legends, and the atomic write of PNG
// and SVG files. Everything is drawn in pixels (SVG px user units) on a white canvas.
#include "neuralode/plot/figure.hpp"

#include <cairo-svg.h>
#include <cairo.h>

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
#include "plot/ticks.hpp"

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

}  // namespace neuralode::plot

// ---- rendering ----------------------------------------------------------------------------------
// In neuralode::detail, where the header befriends AxesRenderer: a plot::detail namespace in the
// public header would shadow neuralode::detail for every source that includes it.

namespace neuralode::detail {

using plot::Axes;
using plot::Color;
using plot::FigureOptions;

namespace {

struct Pt {
  double x = 0.0;
  double y = 0.0;
};

struct Rect {
  double x = 0.0;
  double y = 0.0;
  double w = 0.0;
  double h = 0.0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
  bool contains(Pt p) const { return p.x >= x && p.x <= right() && p.y >= y && p.y <= bottom(); }
  Rect grown(double d) const { return {x - d, y - d, w + 2 * d, h + 2 * d}; }
};

// Liang & Barsky (1984) clipping of the segment a-b to r; false when nothing is left. Keeps the
// pixel coordinates handed to cairo small: its fixed-point format overflows near 2^23 px, which
// a blown-up loss under fixed limits reaches easily.
bool clip_segment(Pt& a, Pt& b, const Rect& r) {
  const double dx = b.x - a.x;
  const double dy = b.y - a.y;
  double t0 = 0.0;
  double t1 = 1.0;
  auto edge = [&](double p, double q) {
    if (p == 0.0) return q >= 0.0;
    const double t = q / p;
    if (p < 0.0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
    return true;
  };
  if (!edge(-dx, a.x - r.x) || !edge(dx, r.right() - a.x) || !edge(-dy, a.y - r.y) ||
      !edge(dy, r.bottom() - a.y)) {
    return false;
  }
  const Pt a0 = a;
  a = {a0.x + t0 * dx, a0.y + t0 * dy};
  b = {a0.x + t1 * dx, a0.y + t1 * dy};
  return true;
}

// Axis limits in drawing units: data units, or log10 of them on a log axis.
struct Limits {
  double lo = 0.0;
  double hi = 1.0;
};

// Finite values seen so far.
struct Extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

// The extent plus 5% of its range on each side, as matplotlib's default margins. A single value
// gets +-10% of itself (+-1 at zero; +-half a decade on a log axis) so that it sits mid-panel.
Limits auto_limits(const Extent& e, bool log) {
  if (e.empty()) return {0.0, 1.0};
  const double range = e.hi - e.lo;
  if (range <= 1e-12 * std::max({1.0, std::abs(e.lo), std::abs(e.hi)})) {
    const double mid = 0.5 * (e.lo + e.hi);
    const double half = log ? 0.5 : (mid == 0.0 ? 1.0 : 0.1 * std::abs(mid));
    return {mid - half, mid + half};
  }
  return {e.lo - 0.05 * range, e.hi + 0.05 * range};
}

// Widens one of the limits so that a data unit spans as many pixels along x as along y.
void equalise(const Rect& plot, Limits& x, Limits& y) {
  const double ux = (x.hi - x.lo) / plot.w;
  const double uy = (y.hi - y.lo) / plot.h;
  Limits& widened = ux > uy ? y : x;
  const double half = 0.5 * std::max(ux, uy) * (ux > uy ? plot.h : plot.w);
  const double mid = 0.5 * (widened.lo + widened.hi);
  widened = {mid - half, mid + half};
}

// ---- cairo helpers ----

struct CairoDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
using CairoPtr = std::unique_ptr<cairo_t, CairoDeleter>;
using SurfacePtr = std::unique_ptr<cairo_surface_t, CairoDeleter>;

void set_color(cairo_t* cr, const Color& c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

void set_grey(cairo_t* cr, double level) {
  cairo_set_source_rgb(cr, level, level, level);
}

void use_font(cairo_t* cr, double size_px, bool bold = false) {
  // The toy API resolves "sans-serif" through fontconfig (DejaVu Sans on Debian).
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size_px);
}

struct Metrics {
  double ascent = 0.0;
  double descent = 0.0;
  double height() const { return ascent + descent; }
};

Metrics metrics(cairo_t* cr) {
  cairo_font_extents_t e;
  cairo_font_extents(cr, &e);
  return {e.ascent, e.descent};
}

// Typographic minus signs in numbers, as matplotlib draws them.
std::string display(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '-') {
      out += "\u2212";
    } else {
      out += c;
    }
  }
  return out;
}

double advance(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Draws s with its baseline at y; `align` 0 puts x at the left end, 0.5 centres, 1 right-aligns.
void show_text(cairo_t* cr, const std::string& s, double x, double y, double align) {
  cairo_move_to(cr, x - align * advance(cr, s), y);
  cairo_show_text(cr, s.c_str());
}

constexpr double kSuperscript = 0.7;  // superscript size relative to the label

double tick_width(cairo_t* cr, const AxisTick& t, double font_px) {
  use_font(cr, font_px);
  double w = advance(cr, display(t.text));
  if (!t.superscript.empty()) {
    use_font(cr, kSuperscript * font_px);
    w += advance(cr, display(t.superscript));
  }
  return w;
}

void show_tick(cairo_t* cr, const AxisTick& t, double x, double baseline, double align,
               double font_px) {
  const double w = tick_width(cr, t, font_px);
  double left = x - align * w;
  use_font(cr, font_px);
  const std::string text = display(t.text);
  cairo_move_to(cr, left, baseline);
  cairo_show_text(cr, text.c_str());
  if (!t.superscript.empty()) {
    left += advance(cr, text);
    use_font(cr, kSuperscript * font_px);
    cairo_move_to(cr, left, baseline - 0.45 * font_px);
    cairo_show_text(cr, display(t.superscript).c_str());
    use_font(cr, font_px);
  }
}

// A 1 px line at integer coordinate c lands on pixel centres, not astride two pixels.
double crisp(double c) {
  return std::floor(c) + 0.5;
}

void arrow_path(cairo_t* cr, Pt a, Pt b, double width_px, const Rect& visible) {
  const double dx = b.x - a.x;
  const double dy = b.y - a.y;
  const double length = std::hypot(dx, dy);
  if (!(length >= 0.5)) return;  // below half a pixel: nothing to see
  const double ux = dx / length;
  const double uy = dy / length;
  // Heads scale with the shaft width (as matplotlib's quiver) but never exceed 40% of the arrow.
  const double head = std::min(0.4 * length, 3.0 + 3.5 * width_px);
  const double half_width = 0.55 * head;
  Pt shaft_end{b.x - 0.8 * head * ux, b.y - 0.8 * head * uy};
  Pt shaft_start = a;
  if (clip_segment(shaft_start, shaft_end, visible)) {
    cairo_set_line_width(cr, width_px);
    cairo_move_to(cr, shaft_start.x, shaft_start.y);
    cairo_line_to(cr, shaft_end.x, shaft_end.y);
    cairo_stroke(cr);
  }
  if (visible.contains(b)) {
    const Pt base{b.x - head * ux, b.y - head * uy};
    cairo_move_to(cr, b.x, b.y);
    cairo_line_to(cr, base.x - half_width * uy, base.y + half_width * ux);
    cairo_line_to(cr, base.x + half_width * uy, base.y - half_width * ux);
    cairo_close_path(cr);
    cairo_fill(cr);
  }
}

}  // namespace

// Draws one Axes into a cell of the canvas. A friend of Axes, so it reads the series directly.
struct AxesRenderer {
  const Axes& ax;
  cairo_t* cr;
  double f;  // font size in px

  Limits xlim, ylim;  // drawing units
  Rect plot;
  std::vector<AxisTick> xticks, yticks;

  // Drawing unit of a y value: log10 on a log axis (NaN for y <= 0, so such points are skipped).
  double ty(double y) const {
    if (!ax.log_y_) return y;
    return y > 0.0 ? std::log10(y) : std::numeric_limits<double>::quiet_NaN();
  }
  bool valid(double x, double y) const { return std::isfinite(x) && std::isfinite(ty(y)); }
  Pt to_px(double x, double y) const {
    return {plot.x + (x - xlim.lo) / (xlim.hi - xlim.lo) * plot.w,
            plot.bottom() - (ty(y) - ylim.lo) / (ylim.hi - ylim.lo) * plot.h};
  }
  static bool finite(Pt p) { return std::isfinite(p.x) && std::isfinite(p.y); }

  // Limits in drawing units from the fixed ones or the data.
  void data_limits(Limits& x, Limits& y) const {
    Extent ex, ey;
    for (const Axes::Series& s : ax.series_) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!valid(s.x[i], s.y[i])) continue;
        if (s.kind == Axes::Kind::arrows && !valid(s.x2[i], s.y2[i])) continue;
        ex.add(s.x[i]);
        ey.add(ty(s.y[i]));
        if (s.kind == Axes::Kind::arrows) {
          ex.add(s.x2[i]);
          ey.add(ty(s.y2[i]));
        }
      }
    }
    x = auto_limits(ex, false);
    y = auto_limits(ey, ax.log_y_);
    if (ax.xlo_) x = {*ax.xlo_, *ax.xhi_};
    if (ax.ylo_) {
      if (ax.log_y_ && *ax.ylo_ <= 0.0) {
        throw InvalidArgument(cat("Axes::set_ylim: (", num(*ax.ylo_), ", ", num(*ax.yhi_),
                                  ") on a log y axis must be > 0 (panel \"", ax.title_, "\")"));
      }
      y = {ty(*ax.ylo_), ty(*ax.yhi_)};
    }
  }

  std::vector<AxisTick> make_yticks(int max_ticks) const {
    if (ax.log_y_) return log_ticks(std::pow(10.0, ylim.lo), std::pow(10.0, ylim.hi), max_ticks);
    return label_linear(nice_ticks(ylim.lo, ylim.hi, max_ticks));
  }

  // Margins from measured text, so labels never overlap the plot or each other.
  void layout(const Rect& cell) {
    use_font(cr, f);
    const Metrics m = metrics(cr);
    const double pad = 0.5 * f;
    const double tick_len = 0.35 * f;
    const double gap = 0.25 * f;
    double top = pad + 0.5 * m.ascent;  // room for half the top y tick label
    if (!ax.title_.empty()) {
      use_font(cr, 1.15 * f, true);
      top = pad + metrics(cr).height() + 0.4 * f;
    }
    const double bottom =
        tick_len + gap + m.height() + (ax.xlabel_.empty() ? 0.0 : 0.3 * f + m.height()) + pad;
    const double right = pad + 1.2 * f;  // half of the last x tick label
    const double ylabel_w = ax.ylabel_.empty() ? 0.0 : m.height() + 0.3 * f;
    plot.y = cell.y + top;
    plot.h = std::max(1.0, cell.h - top - bottom);

    Limits base_x, base_y;
    data_limits(base_x, base_y);
    xlim = base_x;
    ylim = base_y;
    const int max_yticks = std::clamp(static_cast<int>(plot.h / (3.0 * f)) + 1, 2, 10);
    // With equal aspect the y limits depend on the plot width, which depends on the y tick
    // labels; three rounds settle it (the label width changes by a digit at most).
    for (int round = 0; round < 3; ++round) {
      yticks = make_yticks(max_yticks);
      double widest = 0.0;
      for (const AxisTick& t : yticks) widest = std::max(widest, tick_width(cr, t, f));
      const double left = pad + ylabel_w + widest + gap + tick_len;
      plot.x = cell.x + left;
      plot.w = std::max(1.0, cell.w - left - right);
      if (!ax.equal_aspect_ || ax.log_y_) break;
      xlim = base_x;
      ylim = base_y;
      equalise(plot, xlim, ylim);
    }
    if (ax.equal_aspect_ && !ax.log_y_) yticks = make_yticks(max_yticks);  // the final limits
    // As many x ticks as fit with a font size of space between labels.
    for (int max_xticks = std::clamp(static_cast<int>(plot.w / (4.5 * f)) + 1, 2, 10);
         max_xticks >= 2; --max_xticks) {
      xticks = label_linear(nice_ticks(xlim.lo, xlim.hi, max_xticks));
      double widest = 0.0;
      for (const AxisTick& t : xticks) widest = std::max(widest, tick_width(cr, t, f));
      const double spacing = plot.w * (xticks[1].value - xticks[0].value) / (xlim.hi - xlim.lo);
      if (spacing >= widest + f) break;
    }
  }

  void draw_grid() const {
    cairo_set_line_width(cr, 1.0);
    set_grey(cr, 0.88);
    for (const AxisTick& t : xticks) {
      const double x = crisp(to_px(t.value, 1.0).x);
      if (x <= plot.x + 1 || x >= plot.right() - 1) continue;
      cairo_move_to(cr, x, plot.y);
      cairo_line_to(cr, x, plot.bottom());
    }
    for (const AxisTick& t : yticks) {
      const double y = crisp(to_px(0.0, t.value).y);
      if (y <= plot.y + 1 || y >= plot.bottom() - 1) continue;
      cairo_move_to(cr, plot.x, y);
      cairo_line_to(cr, plot.right(), y);
    }
    cairo_stroke(cr);
  }

  void draw_line(const Axes::Series& s) const {
    // Segments are clipped to a rectangle a little larger than the plot, so joins and dash
    // restarts at the cut fall outside the visible area (the cairo clip hides them).
    const Rect visible = plot.grown(8.0);
    bool have_prev = false;
    bool pen_down = false;
    Pt prev;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const Pt p = valid(s.x[i], s.y[i]) ? to_px(s.x[i], s.y[i]) : Pt{NAN, NAN};
      if (!finite(p)) {
        have_prev = pen_down = false;
        continue;
      }
      if (have_prev) {
        Pt a = prev;
        Pt b = p;
        if (clip_segment(a, b, visible)) {
          if (!pen_down || a.x != prev.x || a.y != prev.y) cairo_move_to(cr, a.x, a.y);
          cairo_line_to(cr, b.x, b.y);
          pen_down = b.x == p.x && b.y == p.y;
        } else {
          pen_down = false;
        }
      }
      prev = p;
      have_prev = true;
    }
    set_color(cr, s.color);
    cairo_set_line_width(cr, s.width_px);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    if (s.dashed) {
      const double dashes[] = {6.0, 4.0};
      cairo_set_dash(cr, dashes, 2, 0.0);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0.0);
  }

  void draw_points(const Axes::Series& s) const {
    const Rect visible = plot.grown(s.radius_px);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!valid(s.x[i], s.y[i])) continue;
      const Pt p = to_px(s.x[i], s.y[i]);
      if (!finite(p) || !visible.contains(p)) continue;
      cairo_new_sub_path(cr);
      cairo_arc(cr, p.x, p.y, s.radius_px, 0.0, 2.0 * std::numbers::pi);
    }
    set_color(cr, s.color);
    cairo_fill(cr);
  }

  void draw_arrows(const Axes::Series& s) const {
    set_color(cr, s.color);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
    const Rect visible = plot.grown(8.0);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!valid(s.x[i], s.y[i]) || !valid(s.x2[i], s.y2[i])) continue;
      const Pt a = to_px(s.x[i], s.y[i]);
      const Pt b = to_px(s.x2[i], s.y2[i]);
      if (finite(a) && finite(b)) arrow_path(cr, a, b, s.width_px, visible);
    }
  }

  void draw_frame_and_ticks() const {
    use_font(cr, f);
    const Metrics m = metrics(cr);
    const double tick_len = 0.35 * f;
    const double gap = 0.25 * f;
    set_grey(cr, 0.15);
    cairo_set_line_width(cr, 1.0);
    const double x0 = crisp(plot.x);
    const double y1 = crisp(plot.bottom());
    cairo_rectangle(cr, x0, crisp(plot.y), crisp(plot.right()) - x0, y1 - crisp(plot.y));
    cairo_stroke(cr);
    for (const AxisTick& t : xticks) {
      const double x = to_px(t.value, 1.0).x;
      if (x < plot.x - 0.5 || x > plot.right() + 0.5) continue;
      cairo_move_to(cr, crisp(x), y1);
      cairo_line_to(cr, crisp(x), y1 + tick_len);
      cairo_stroke(cr);
      show_tick(cr, t, x, y1 + tick_len + gap + m.ascent, 0.5, f);
    }
    for (const AxisTick& t : yticks) {
      const double y = to_px(0.0, t.value).y;
      if (y < plot.y - 0.5 || y > plot.bottom() + 0.5) continue;
      cairo_move_to(cr, x0, crisp(y));
      cairo_line_to(cr, x0 - tick_len, crisp(y));
      cairo_stroke(cr);
      // Digits are ~0.73 em tall in DejaVu Sans; centre them on the tick.
      show_tick(cr, t, x0 - tick_len - gap, y + 0.36 * f, 1.0, f);
    }
    // Unlabelled minor ticks at 2..9 x 10^k when every decade is labelled, as on log paper.
    if (ax.log_y_ && yticks.size() >= 2 && !yticks[0].superscript.empty() &&
        std::abs(std::log10(yticks[1].value / yticks[0].value) - 1.0) < 1e-9) {
      for (double e = std::floor(ylim.lo); e <= ylim.hi; e += 1.0) {
        for (int k = 2; k <= 9; ++k) {
          const double y = to_px(0.0, k * std::pow(10.0, e)).y;
          if (y < plot.y || y > plot.bottom()) continue;
          cairo_move_to(cr, x0, crisp(y));
          cairo_line_to(cr, x0 - 0.6 * tick_len, crisp(y));
        }
      }
      cairo_stroke(cr);
    }
  }

  void draw_labels(const Rect& cell) const {
    const double pad = 0.5 * f;
    set_grey(cr, 0.1);
    if (!ax.title_.empty()) {
      use_font(cr, 1.15 * f, true);
      show_text(cr, ax.title_, plot.x + 0.5 * plot.w, cell.y + pad + metrics(cr).ascent, 0.5);
    }
    use_font(cr, f);
    const Metrics m = metrics(cr);
    if (!ax.xlabel_.empty()) {
      const double baseline = plot.bottom() + 0.35 * f + 0.25 * f + m.height() + 0.3 * f + m.ascent;
      show_text(cr, ax.xlabel_, plot.x + 0.5 * plot.w, baseline, 0.5);
    }
    if (!ax.ylabel_.empty()) {
      // Rotated a quarter turn anticlockwise: the glyphs' "up" points left, so the baseline sits
      // one ascent to the right of the cell's padding.
      cairo_save(cr);
      cairo_translate(cr, cell.x + pad + m.ascent, plot.y + 0.5 * plot.h);
      cairo_rotate(cr, -0.5 * std::numbers::pi);
      show_text(cr, ax.ylabel_, 0.0, 0.0, 0.5);
      cairo_restore(cr);
    }
  }

  // How much of the data a legend box at r would hide: vertices, discs and segments inside it.
  std::size_t overlap(const Rect& r) const {
    std::size_t hits = 0;
    for (const Axes::Series& s : ax.series_) {
      bool have_prev = false;
      Pt prev;
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!valid(s.x[i], s.y[i])) {
          have_prev = false;
          continue;
        }
        const Pt p = to_px(s.x[i], s.y[i]);
        if (!finite(p)) {
          have_prev = false;
          continue;
        }
        if (s.kind == Axes::Kind::line) {
          Pt a = prev;
          Pt b = p;
          if (have_prev && clip_segment(a, b, r)) ++hits;
          prev = p;
          have_prev = true;
        } else if (s.kind == Axes::Kind::points) {
          hits += r.contains(p);
        } else if (valid(s.x2[i], s.y2[i])) {
          Pt a = p;
          Pt b = to_px(s.x2[i], s.y2[i]);
          if (finite(b) && clip_segment(a, b, r)) ++hits;
        }
      }
    }
    return hits;
  }

  void draw_legend() const {
    std::vector<const Axes::Series*> entries;
    for (const Axes::Series& s : ax.series_) {
      if (!s.label.empty()) entries.push_back(&s);
    }
    if (entries.empty()) return;
    const double lf = 0.9 * f;
    use_font(cr, lf);
    const Metrics m = metrics(cr);
    const double pad = 0.5 * lf;
    const double row = 1.3 * lf;
    const double sample = 2.2 * lf;
    double widest = 0.0;
    for (const Axes::Series* s : entries) widest = std::max(widest, advance(cr, s->label));
    const double w = 2 * pad + sample + 0.5 * lf + widest;
    const double h = 2 * pad + row * static_cast<double>(entries.size());
    // The corner hiding the least data, preferring upper right, then upper left, lower left,
    // lower right on ties (matplotlib's "best" over the four corners).
    const double inset = 0.5 * f;
    const Rect corners[] = {{plot.right() - inset - w, plot.y + inset, w, h},
                            {plot.x + inset, plot.y + inset, w, h},
                            {plot.x + inset, plot.bottom() - inset - h, w, h},
                            {plot.right() - inset - w, plot.bottom() - inset - h, w, h}};
    Rect box = corners[0];
    std::size_t fewest = std::numeric_limits<std::size_t>::max();
    for (const Rect& r : corners) {
      const std::size_t hits = overlap(r);
      if (hits < fewest) {
        fewest = hits;
        box = r;
      }
    }
    cairo_rectangle(cr, box.x, box.y, box.w, box.h);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.85);
    cairo_fill_preserve(cr);
    set_grey(cr, 0.75);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const Axes::Series& s = *entries[k];
      const double yc = box.y + pad + (static_cast<double>(k) + 0.5) * row;
      const double x0 = box.x + pad;
      set_color(cr, s.color);
      if (s.kind == Axes::Kind::line) {
        cairo_set_line_width(cr, s.width_px);
        if (s.dashed) {
          const double dashes[] = {6.0, 4.0};
          cairo_set_dash(cr, dashes, 2, 0.0);
        }
        cairo_move_to(cr, x0, yc);
        cairo_line_to(cr, x0 + sample, yc);
        cairo_stroke(cr);
        cairo_set_dash(cr, nullptr, 0, 0.0);
      } else if (s.kind == Axes::Kind::points) {
        cairo_arc(cr, x0 + 0.5 * sample, yc, std::min(s.radius_px, 0.35 * lf), 0.0,
                  2.0 * std::numbers::pi);
        cairo_fill(cr);
      } else {
        arrow_path(cr, {x0, yc}, {x0 + sample, yc}, s.width_px, box.grown(lf));
      }
      set_grey(cr, 0.1);
      use_font(cr, lf);
      show_text(cr, s.label, x0 + sample + 0.5 * lf, yc + 0.5 * (m.ascent - m.descent), 0.0);
    }
  }

  void draw(const Rect& cell) {
    layout(cell);
    draw_grid();
    cairo_save(cr);
    cairo_rectangle(cr, plot.x, plot.y, plot.w, plot.h);
    cairo_clip(cr);
    for (const Axes::Series& s : ax.series_) {
      switch (s.kind) {
        case Axes::Kind::line:
          draw_line(s);
          break;
        case Axes::Kind::points:
          draw_points(s);
          break;
        case Axes::Kind::arrows:
          draw_arrows(s);
          break;
      }
    }
    cairo_restore(cr);
    draw_frame_and_ticks();
    draw_labels(cell);
    draw_legend();
  }
};

namespace {

enum class Format { png, svg };

void render(cairo_t* cr, const FigureOptions& options, const std::vector<Axes>& panels) {
  cairo_set_source_rgb(cr, 1.0, 1.0, 1.0);
  cairo_paint(cr);
  const double f = options.font_size_px;
  double top = 0.0;
  if (!options.title.empty()) {
    use_font(cr, 1.3 * f, true);
    const Metrics m = metrics(cr);
    set_grey(cr, 0.1);
    show_text(cr, options.title, 0.5 * options.width_px, 0.5 * f + m.ascent, 0.5);
    top = 0.5 * f + m.height();
  }
  const double cell_w = static_cast<double>(options.width_px) / options.cols;
  const double cell_h = (options.height_px - top) / options.rows;
  for (int r = 0; r < options.rows; ++r) {
    for (int c = 0; c < options.cols; ++c) {
      const Axes& ax = panels[static_cast<std::size_t>(r) * options.cols + c];
      AxesRenderer renderer{ax, cr, f};
      renderer.draw({c * cell_w, top + r * cell_h, cell_w, cell_h});
    }
  }
}

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// The encoded file in memory: rendering is done before any file is touched, so a rendering
// problem never leaves a temporary file behind. Figures are a few hundred kB.
std::string encode(const FigureOptions& options, const std::vector<Axes>& panels, Format format,
                   const std::filesystem::path& path) {
  std::string bytes;
  cairo_status_t status = CAIRO_STATUS_SUCCESS;
  if (format == Format::png) {
    // RGB24: an opaque image, written as an RGB PNG without an alpha channel.
    SurfacePtr surface(
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, options.width_px, options.height_px));
    {
      CairoPtr cr(cairo_create(surface.get()));
      render(cr.get(), options, panels);
      status = cairo_status(cr.get());
    }
    if (status == CAIRO_STATUS_SUCCESS) {
      status = cairo_surface_write_to_png_stream(surface.get(), append_bytes, &bytes);
    }
  } else {
    SurfacePtr surface(cairo_svg_surface_create_for_stream(append_bytes, &bytes, options.width_px,
                                                           options.height_px));
    // px, not cairo 1.16's default pt, so the SVG opens at the requested pixel size.
    cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PX);
    {
      CairoPtr cr(cairo_create(surface.get()));
      render(cr.get(), options, panels);
      status = cairo_status(cr.get());
    }
    cairo_surface_finish(surface.get());
    if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface.get());
  }
  if (status != CAIRO_STATUS_SUCCESS) {
    throw IoError(cat("Figure::save: cannot render '", path.string(),
                      "': cairo: ", cairo_status_to_string(status)));
  }
  return bytes;
}

}  // namespace

}  // namespace neuralode::detail

namespace neuralode::plot {

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
