// Drawing primitives of the figure renderer: pixel geometry (points, rectangles, segment
// clipping, axis limits) and thin cairo helpers (colours, fonts, text, ticks, arrows). Internal
// to src/plot/; the renderer (axes_renderer.hpp, render.cpp) is their only user.
#pragma once

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "neuralode/plot/figure.hpp"
#include "plot/ticks.hpp"

namespace neuralode::detail {

using plot::Axes;
using plot::Color;
using plot::FigureOptions;

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
inline bool clip_segment(Pt& a, Pt& b, const Rect& r) {
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
inline Limits auto_limits(const Extent& e, bool log) {
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
inline void equalise(const Rect& plot, Limits& x, Limits& y) {
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

inline void set_color(cairo_t* cr, const Color& c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

inline void set_grey(cairo_t* cr, double level) {
  cairo_set_source_rgb(cr, level, level, level);
}

inline void use_font(cairo_t* cr, double size_px, bool bold = false) {
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

inline Metrics metrics(cairo_t* cr) {
  cairo_font_extents_t e;
  cairo_font_extents(cr, &e);
  return {e.ascent, e.descent};
}

// Typographic minus signs in numbers, as matplotlib draws them.
inline std::string display(const std::string& s) {
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

inline double advance(cairo_t* cr, const std::string& s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

// Draws s with its baseline at y; `align` 0 puts x at the left end, 0.5 centres, 1 right-aligns.
inline void show_text(cairo_t* cr, const std::string& s, double x, double y, double align) {
  cairo_move_to(cr, x - align * advance(cr, s), y);
  cairo_show_text(cr, s.c_str());
}

constexpr double kSuperscript = 0.7;  // superscript size relative to the label

inline double tick_width(cairo_t* cr, const AxisTick& t, double font_px) {
  use_font(cr, font_px);
  double w = advance(cr, display(t.text));
  if (!t.superscript.empty()) {
    use_font(cr, kSuperscript * font_px);
    w += advance(cr, display(t.superscript));
  }
  return w;
}

inline void show_tick(cairo_t* cr, const AxisTick& t, double x, double baseline, double align,
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
inline double crisp(double c) {
  return std::floor(c) + 0.5;
}

inline void arrow_path(cairo_t* cr, Pt a, Pt b, double width_px, const Rect& visible) {
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

}  // namespace neuralode::detail
