// Figure: a small plotting library for training commands. A grid of panels (Axes), each holding
// lines, point clouds and arrow fields, written as PNG or SVG. Rendering uses cairo inside
// src/plot/figure.cpp; nothing in this header depends on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace neuralode::detail {
struct AxesRenderer;  // src/plot/axes_renderer.hpp
}

namespace neuralode::plot {

// An sRGB colour, each channel in [0, 1].
struct Color {
  double r = 0.0;
  double g = 0.0;
  double b = 0.0;
  // From a 24-bit hex triple as written in CSS and matplotlib: Color::hex(0x1f77b4).
  static Color hex(std::uint32_t rgb);
};

// Colour i of the default cycle, matplotlib's tab10 (blue, orange, green, red, purple, brown,
// pink, grey, olive, cyan), wrapping after 10. A series given no colour takes the next one of its
// Axes, so "true" then "predicted" added in the same order in every panel share colours.
Color cycle_color(int i);

// ---- Series styles --------------------------------------------------------------------------
// Each style has a validate() that the adding call runs; it throws InvalidArgument naming the
// field and its value.

struct LineStyle {
  // Stroke colour; unset takes the next colour of the Axes' cycle (see cycle_color).
  std::optional<Color> color;
  // Stroke width in pixels (SVG user units). 1.5 reads well at 400 px panels; use ~1 for dense
  // curves such as a per-iteration loss.
  double width_px = 1.5;
  // Dashed stroke (6 px on, 4 px off), e.g. for the reference ("true") curve so that a
  // prediction lying exactly on it stays visible.
  bool dashed = false;
  // Legend entry; empty leaves the series out of the legend. The legend is drawn when any
  // series of the Axes has a label.
  std::string label;
  void validate() const;
};

struct PointStyle {
  // Fill colour; unset takes the next colour of the Axes' cycle.
  std::optional<Color> color;
  // Disc radius in pixels. 2.5 suits a few hundred points; use ~1 for thousands.
  double radius_px = 2.5;
  // Legend entry; empty leaves the series out of the legend.
  std::string label;
  void validate() const;
};

struct ArrowStyle {
  // Stroke colour; unset takes the next colour of the Axes' cycle.
  std::optional<Color> color;
  // Data units of arrow per unit of (u, v): the arrow at (x, y) ends at (x + scale*u,
  // y + scale*v). 0 = automatic: the longest arrow spans 0.9 of a grid cell along its larger
  // component (cells are inferred from the x and y positions; see Axes::arrows).
  double scale = 0.0;
  // Shaft width in pixels; heads grow with it.
  double width_px = 1.2;
  // Legend entry; empty leaves the series out of the legend.
  std::string label;
  void validate() const;
};

// One panel: a data rectangle with a frame, ticks at "nice" values (1, 2 or 5 x 10^k; decades on
// a log axis), light grey gridlines, an optional title, axis labels and a legend.
//
// Series are copied in, so the caller's buffers may be freed after the call. Every adding call
// takes x and y values of equal, non-zero length (else InvalidArgument naming the series by its
// label or its position). Points with a NaN or infinite coordinate, and on a log y axis those
// with y <= 0, are skipped: a line breaks there and resumes at the next finite point, so a
// training curve that blew up once still plots.
//
// Limits are automatic unless fixed: the finite data (arrow tips included) plus 5% of the range
// on each side (in log10 space on a log axis). Data outside fixed limits is clipped.
// Obtained from Figure::panel; lives as long as its Figure.
class Axes {
 public:
  // Text drawn above the panel, along the x axis, and rotated along the y axis. Empty = none.
  Axes& set_title(std::string title);
  Axes& set_xlabel(std::string label);
  Axes& set_ylabel(std::string label);
  // Log10 y axis with ticks at decades (for loss curves). Values <= 0 are skipped.
  Axes& set_log_y(bool on = true);
  // Fixed limits; require finite lo < hi (and lo > 0 for y on a log axis, checked at save).
  Axes& set_xlim(double lo, double hi);
  Axes& set_ylim(double lo, double hi);
  // One data unit spans as many pixels along x as along y, by widening the limits of the axis
  // that has room to spare (for phase portraits and vector fields, where angles matter).
  // Ignored on a log y axis.
  Axes& set_equal_aspect(bool on = true);

  // A polyline through (xs[i], ys[i]) in order.
  Axes& line(std::span<const double> xs, std::span<const double> ys, LineStyle style = {});
  // A disc at each (xs[i], ys[i]).
  Axes& points(std::span<const double> xs, std::span<const double> ys, PointStyle style = {});
  // A quiver plot: an arrow from (x[i], y[i]) along (u[i], v[i]), drawn in data space so that
  // directions match the trajectories of the field on the same axes (use set_equal_aspect for
  // true angles). With the automatic scale, grid cells are inferred from the positions: when
  // they form a full nx x ny grid, a cell is (x range / (nx - 1)) x (y range / (ny - 1));
  // otherwise the points are treated as a sqrt(n) x sqrt(n) grid over their bounding box.
  // All four spans must have the same non-zero length.
  Axes& arrows(std::span<const double> x, std::span<const double> y, std::span<const double> u,
               std::span<const double> v, ArrowStyle style = {});

 private:
  friend class Figure;
  friend struct neuralode::detail::AxesRenderer;
  Axes() = default;

  enum class Kind { line, points, arrows };
  // One added series, in data units. For arrows, (x2, y2) are the tips.
  struct Series {
    Kind kind = Kind::line;
    std::vector<double> x, y, x2, y2;
    Color color;
    double width_px = 1.0;
    double radius_px = 0.0;
    bool dashed = false;
    std::string label;
  };
  // Checks sizes, names the series in messages, and picks the colour.
  Series& add(Kind kind, const char* what, std::span<const double> xs, std::span<const double> ys,
              const std::optional<Color>& color, const std::string& label);

  std::string title_, xlabel_, ylabel_;
  bool log_y_ = false;
  bool equal_aspect_ = false;
  std::optional<double> xlo_, xhi_, ylo_, yhi_;
  std::vector<Series> series_;
  int next_color_ = 0;
};

struct FigureOptions {
  // Size of the image in pixels (PNG) or of the SVG canvas in px user units. 1200 x 400 fits
  // three panels side by side, the layout of the spiral demo.
  int width_px = 1200;
  int height_px = 400;
  // The panel grid; panels share the canvas equally, row-major.
  int rows = 1;
  int cols = 1;
  // Size of tick labels and axis labels in pixels; titles are 1.15x. Raise it for figures
  // shown scaled down, lower it for many small panels.
  double font_size_px = 13.0;
  // Title above the whole figure (e.g. "iteration 500"); empty = none.
  std::string title;
  // Positive sizes up to 16384 px (cairo's image limit), rows and cols >= 1, font size > 0.
  void validate() const;
};

// A grid of panels drawn on a white canvas and written to a file. Cheap to build: series are
// kept as data until save(), which renders from scratch each time (a training command can add
// series and save repeatedly).
class Figure {
 public:
  explicit Figure(FigureOptions options = {});
  // Shorthand for FigureOptions{.width_px, .height_px, .rows, .cols}.
  Figure(int width_px, int height_px, int rows = 1, int cols = 1);

  // The panel at (row, col), zero-based; throws InvalidArgument outside rows x cols. The
  // reference stays valid for the Figure's lifetime.
  Axes& panel(int row, int col);
  const FigureOptions& options() const { return options_; }

  // Renders and writes the figure; the format follows the extension, ".png" or ".svg" (any case).
  // Written to a temporary file in the same directory, flushed to disk and renamed over `path`,
  // so readers (and a crash) see either the old figure or the complete new one, never a partial
  // file. Throws IoError naming the file when the extension is unknown or the file cannot be
  // written (missing directory, no permission, disk full), and InvalidArgument for a fixed
  // y limit <= 0 on a log axis.
  void save(const std::filesystem::path& path) const;

 private:
  FigureOptions options_;
  std::vector<Axes> panels_;  // rows x cols, row-major; never resized, so references stay valid
};

}  // namespace neuralode::plot
