// AxesRenderer: draws one Axes (frame, ticks, grid, series, labels, legend) into a cell of a
// cairo canvas. A friend of Axes (figure.hpp), so it reads the series directly. Internal to
// src/plot/; render.cpp lays the panels out and calls it once per panel.
#pragma once

#include <limits>
#include <numbers>

#include "plot/canvas.hpp"

namespace neuralode::detail {

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

}  // namespace neuralode::detail
