// Figure: file formats, atomic saves, input checks, and the tick arithmetic behind the axes.
#include "neuralode/plot/figure.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "neuralode/error.hpp"
#include "support/temp_dir.hpp"
#include "plot/ticks.hpp"

// cairo keeps the fontconfig patterns of the fonts it has used in process-wide caches that are
// never freed; under NEURALODE_SANITIZE, LeakSanitizer would report them at exit and fail the run.
// Only fontconfig's allocations are suppressed. (Read by LeakSanitizer only; one definition per
// test executable.)
extern "C" __attribute__((used)) const char* __lsan_default_suppressions() {
  return "leak:libfontconfig\n";
}

namespace neuralode::plot {
namespace {

namespace fs = std::filesystem;

using neuralode::test_support::read_file;

std::uint32_t big_endian_u32(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

std::vector<double> linspace(double lo, double hi, int n) {
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) out[i] = lo + (hi - lo) * i / (n - 1);
  return out;
}

Figure small_figure() {
  Figure fig(320, 240);
  const std::vector<double> x = linspace(0.0, 1.0, 20);
  std::vector<double> y;
  for (const double v : x) y.push_back(v * v);
  fig.panel(0, 0).set_title("square").line(x, y, {.label = "x^2"});
  return fig;
}

// Number of files in dir (temporary files included).
std::size_t num_files(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {}));
}

// ---- file formats -------------------------------------------------------------------------------

TEST(Figure, PngHasSignatureAndRequestedSize) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  Figure fig(321, 123, 1, 2);
  const std::vector<double> x = {0.0, 1.0, 2.0};
  fig.panel(0, 0).line(x, x);
  fig.panel(0, 1).points(x, x);
  const fs::path path = dir.path() / "size.png";
  fig.save(path);
  const std::string bytes = read_file(path);
  ASSERT_GT(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // The first chunk is IHDR: length (4), type (4), then width and height, big-endian.
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian_u32(bytes, 16), 321u);
  EXPECT_EQ(big_endian_u32(bytes, 20), 123u);
}

TEST(Figure, SvgIsAWellFormedDocumentOfTheRequestedSize) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  Figure fig = small_figure();
  const fs::path path = dir.path() / "figure.SVG";  // extensions are case-insensitive
  fig.save(path);
  const std::string text = read_file(path);
  ASSERT_FALSE(text.empty());
  EXPECT_TRUE(text.rfind("<?xml", 0) == 0 || text.rfind("<svg", 0) == 0) << text.substr(0, 80);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  EXPECT_NE(text.find("width=\"320px\""), std::string::npos) << text.substr(0, 300);
  EXPECT_NE(text.find("height=\"240px\""), std::string::npos) << text.substr(0, 300);
}

TEST(Figure, UnknownExtensionThrowsIoErrorNamingTheFile) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const fs::path path = dir.path() / "figure.pdf";
  try {
    small_figure().save(path);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".png or .svg"), std::string::npos) << e.what();
  }
  EXPECT_EQ(num_files(dir.path()), 0u);
}

// ---- atomic saves -------------------------------------------------------------------------------

TEST(Figure, SaveToMissingDirectoryThrowsIoErrorWithThePath) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const fs::path path = dir.path() / "no_such_dir" / "figure.png";
  try {
    small_figure().save(path);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(Figure, SaveLeavesNoTemporaryFileBehind) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  small_figure().save(dir.path() / "a.png");
  small_figure().save(dir.path() / "a.png");  // replacing an existing figure
  small_figure().save(dir.path() / "b.svg");
  EXPECT_EQ(num_files(dir.path()), 2u);
}

// A save that fails half-way through writing must leave the previous figure intact and remove
// its temporary file. The failure is a file size limit (RLIMIT_FSIZE), which applies to root too:
// write(2) returns EFBIG once the new file reaches it.
TEST(Figure, FailedSaveLeavesTheExistingFileUnchanged) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const fs::path path = dir.path() / "figure.png";
  small_figure().save(path);
  const std::string before = read_file(path);
  ASSERT_GT(before.size(), 1000u);

  Figure bigger(800, 600);
  const std::vector<double> x = linspace(0.0, 10.0, 500);
  std::vector<double> y;
  for (const double v : x) y.push_back(std::sin(v));
  bigger.panel(0, 0).line(x, y);

  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small_limit = old_limit;
  small_limit.rlim_cur = 512;  // bytes; far below any PNG of the figure
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small_limit), 0);
  bool threw = false;
  std::string message;
  try {
    bigger.save(path);
  } catch (const IoError& e) {
    threw = true;
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_TRUE(threw);
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(num_files(dir.path()), 1u) << "the temporary file was left behind";
}

// ---- input checks -------------------------------------------------------------------------------

TEST(Axes, MismatchedLengthsThrowNamingTheSeries) {
  Figure fig(200, 200);
  const std::vector<double> three = {1, 2, 3};
  const std::vector<double> two = {1, 2};
  try {
    fig.panel(0, 0).line(three, two, {.label = "loss"});
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("\"loss\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(fig.panel(0, 0).points(two, three), InvalidArgument);
  EXPECT_THROW(fig.panel(0, 0).arrows(three, three, three, two), InvalidArgument);
}

TEST(Axes, EmptySeriesThrowsNamingTheSeries) {
  Figure fig(200, 200);
  const std::vector<double> none;
  try {
    fig.panel(0, 0).line(none, none, {.label = "nfe"});
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("\"nfe\""), std::string::npos) << e.what();
  }
}

TEST(Axes, InvalidStylesAndLimitsThrow) {
  Figure fig(200, 200);
  const std::vector<double> x = {1, 2};
  Axes& ax = fig.panel(0, 0);
  EXPECT_THROW(ax.line(x, x, {.width_px = 0.0}), InvalidArgument);
  EXPECT_THROW(ax.line(x, x, {.color = Color{1.5, 0.0, 0.0}}), InvalidArgument);
  EXPECT_THROW(ax.points(x, x, {.radius_px = -1.0}), InvalidArgument);
  EXPECT_THROW(ax.arrows(x, x, x, x, {.scale = -1.0}), InvalidArgument);
  EXPECT_THROW(ax.set_xlim(1.0, 1.0), InvalidArgument);
  EXPECT_THROW(ax.set_ylim(0.0, std::numeric_limits<double>::infinity()), InvalidArgument);
  EXPECT_THROW(fig.panel(1, 0), InvalidArgument);
  EXPECT_THROW(Figure(0, 100), InvalidArgument);
}

TEST(Axes, LogAxisWithNonPositiveFixedLimitThrowsAtSave) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  Figure fig(200, 200);
  fig.panel(0, 0).set_log_y().set_ylim(0.0, 1.0);
  EXPECT_THROW(fig.save(dir.path() / "log.png"), InvalidArgument);
  EXPECT_EQ(num_files(dir.path()), 0u);
}

// A training curve may hold NaN and Inf (a diverged step) and, on a log axis, zeros; those points
// are skipped and the rest is drawn.
TEST(Axes, NonFiniteAndNonPositivePointsAreSkipped) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> it = {0, 1, 2, 3, 4, 5, 6};
  const std::vector<double> loss = {1.0, 0.5, nan, inf, 0.0, 0.1, 0.05};
  Figure fig(400, 300, 1, 2);
  fig.panel(0, 0).set_log_y().line(it, loss, {.label = "loss"}).points(it, loss);
  fig.panel(0, 1).line(it, loss).arrows(it, loss, loss, loss);
  EXPECT_NO_THROW(fig.save(dir.path() / "curve.png"));
  EXPECT_NO_THROW(fig.save(dir.path() / "curve.svg"));
  // Only invalid points: an empty frame, still a figure.
  Figure blank(200, 200);
  const std::vector<double> nans = {nan, nan};
  blank.panel(0, 0).set_log_y().line(nans, nans);
  EXPECT_NO_THROW(blank.save(dir.path() / "blank.png"));
}

// Data far outside fixed limits (a blown-up loss) is clipped before it reaches cairo, whose
// fixed-point coordinates would overflow.
TEST(Axes, DataFarOutsideFixedLimitsIsClipped) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const std::vector<double> x = {0.0, 0.5, 1.0};
  const std::vector<double> y = {0.5, 1e200, -1e300};
  Figure fig(200, 200);
  fig.panel(0, 0).set_ylim(0.0, 1.0).line(x, y).points(x, y).arrows(x, x, y, y, {.scale = 1.0});
  EXPECT_NO_THROW(fig.save(dir.path() / "clipped.png"));
}

// Fixed limits so far from zero that adjacent multiples of the step are not all representable.
TEST(Axes, ExtremeFixedLimitsStillRender) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const std::vector<double> x = {1e17, 1e17 + 64};
  Figure fig(300, 200);
  fig.panel(0, 0).set_xlim(1e17, 1e17 + 64).set_ylim(-1e-300, 1e-300).line(x, x);
  EXPECT_NO_THROW(fig.save(dir.path() / "extreme.png"));
  EXPECT_LE(detail::nice_ticks(1e17, 1e17 + 10, 8).size(), 1000u);
}

// ---- ticks --------------------------------------------------------------------------------------

// Whether step is 1, 2 or 5 times a power of ten (to rounding).
bool is_nice(double step) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const double m = step / magnitude;
  for (const double nice : {1.0, 2.0, 5.0}) {
    if (std::abs(m - nice) < 1e-9) return true;
  }
  return false;
}

TEST(NiceTicks, StepsAreOneTwoOrFiveTimesAPowerOfTenAndCoverTheRange) {
  const double ranges[][2] = {{0.0, 1.0},    {-3.7, 12.2},    {1e-6, 3e-6}, {-1e5, 1e5},
                              {0.3, 0.31},   {999.0, 1001.0}, {-2.5, -2.4}, {0.0, 7.0},
                              {-1.05, 1.05}, {123.0, 98765.0}};
  for (const auto& r : ranges) {
    for (int max_ticks = 3; max_ticks <= 10; ++max_ticks) {
      const double lo = r[0];
      const double hi = r[1];
      const std::vector<double> ticks = detail::nice_ticks(lo, hi, max_ticks);
      SCOPED_TRACE(testing::Message() << "[" << lo << ", " << hi << "], max " << max_ticks);
      ASSERT_GE(ticks.size(), 2u);
      const double step = ticks[1] - ticks[0];
      EXPECT_TRUE(is_nice(step)) << "step " << step;
      // Every tick lies in the range and is a multiple of the step.
      const double slack = 1e-9 * step;
      for (std::size_t i = 0; i < ticks.size(); ++i) {
        EXPECT_GE(ticks[i], lo - slack);
        EXPECT_LE(ticks[i], hi + slack);
        EXPECT_NEAR(ticks[i] / step, std::round(ticks[i] / step), 1e-6);
        if (i > 0) {
          EXPECT_NEAR(ticks[i] - ticks[i - 1], step, slack);
        }
      }
      // Covering: no room for another tick at either end.
      EXPECT_LT(ticks.front() - lo, step + slack);
      EXPECT_LT(hi - ticks.back(), step + slack);
      // At most max_ticks, unless the range is so short that the step had to be refined to get two.
      if (ticks.size() > static_cast<std::size_t>(max_ticks)) {
        EXPECT_LT(std::floor((hi - lo) / detail::nice_step(lo, hi, max_ticks) + 1e-9), 2.0);
      }
    }
  }
}

TEST(NiceTicks, UnitRangeGivesTenthsOrFifthsIncludingBothEnds) {
  const std::vector<double> ticks = detail::nice_ticks(0.0, 1.0, 6);
  ASSERT_EQ(ticks.size(), 6u);
  EXPECT_EQ(ticks.front(), 0.0);
  EXPECT_DOUBLE_EQ(ticks.back(), 1.0);
  EXPECT_DOUBLE_EQ(ticks[1], 0.2);
}

TEST(NiceTicks, LabelsUseTheDecimalsOfTheStep) {
  const auto labels = detail::label_linear({-0.5, 0.0, 0.5, 1.0});
  ASSERT_EQ(labels.size(), 4u);
  EXPECT_EQ(labels[0].text, "-0.5");
  EXPECT_EQ(labels[1].text, "0.0");
  EXPECT_EQ(labels[3].text, "1.0");
  EXPECT_EQ(detail::label_linear({0.0, 2e6})[1].text, "2e6");
  EXPECT_EQ(detail::label_linear({1e-5, 2e-5})[0].text, "1e-5");
  EXPECT_EQ(detail::label_linear({0.0, 1000.0})[1].text, "1000");
  // Scientific labels carry the digits the step needs, all in the same notation.
  const auto large = detail::label_linear({8e5, 1e6, 1.2e6});
  EXPECT_EQ(large[0].text, "8e5");
  EXPECT_EQ(large[1].text, "1.0e6");
  EXPECT_EQ(large[2].text, "1.2e6");
  EXPECT_EQ(detail::label_linear({-5e-6, 0.0, 5e-6})[1].text, "0");
}

TEST(LogTicks, AreDecadesWithTheExponentAsSuperscript) {
  const auto ticks = detail::log_ticks(3e-5, 2e2, 10);
  ASSERT_EQ(ticks.size(), 7u);  // 1e-4 .. 1e2
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const int exponent = static_cast<int>(i) - 4;
    EXPECT_NEAR(std::log10(ticks[i].value), exponent, 1e-12);
    EXPECT_EQ(ticks[i].text, "10");
    EXPECT_EQ(ticks[i].superscript, std::to_string(exponent));
  }
}

TEST(LogTicks, ManyDecadesAreThinnedToEveryOtherAlignedOnOne) {
  const auto ticks = detail::log_ticks(1e-12, 1e3, 6);
  ASSERT_GE(ticks.size(), 2u);
  ASSERT_LE(ticks.size(), 6u);
  bool has_one = false;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double e = std::log10(ticks[i].value);
    EXPECT_NEAR(e, std::round(e), 1e-12);  // decades only
    has_one = has_one || std::abs(e) < 1e-12;
    if (i > 0) {
      EXPECT_NEAR(e - std::log10(ticks[i - 1].value), std::log10(ticks[1].value / ticks[0].value),
                  1e-9);  // evenly thinned
    }
  }
  EXPECT_TRUE(has_one);
}

TEST(LogTicks, LessThanTwoDecadesFallsBackToOneTwoFive) {
  const auto ticks = detail::log_ticks(0.15, 0.9, 10);
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_DOUBLE_EQ(ticks[0].value, 0.2);
  EXPECT_DOUBLE_EQ(ticks[1].value, 0.5);
  EXPECT_EQ(ticks[1].text, "0.5");
  EXPECT_TRUE(ticks[1].superscript.empty());
}

TEST(LogTicks, WithinOneOneTwoFiveStepFallsBackToLinearTicks) {
  const auto ticks = detail::log_ticks(3.0, 4.0, 6);  // no 1, 2 or 5 x 10^k inside
  ASSERT_GE(ticks.size(), 2u);
  for (const auto& t : ticks) {
    EXPECT_GE(t.value, 3.0);
    EXPECT_LE(t.value, 4.0);
  }
}

// ---- a whole figure -----------------------------------------------------------------------------

// The spiral demo's layout: x and y against t (true dashed, predicted solid), the phase portrait,
// and the learned vector field as arrows over the trajectory. Set NEURALODE_KEEP_FIGURES=1 to
// keep the PNG and SVG and look at them.
TEST(Figure, RendersTheThreePanelSpiralFigure) {
  neuralode::test_support::TempDir dir{"figure", "NEURALODE_KEEP_FIGURES"};
  const std::vector<double> t = linspace(0.0, 25.0, 400);
  std::vector<double> xt, yt, xp, yp;
  for (const double s : t) {
    const double r = 2.0 * std::exp(-0.1 * s);
    xt.push_back(r * std::cos(s));
    yt.push_back(r * std::sin(s));
    const double rp = 2.0 * std::exp(-0.095 * s);
    xp.push_back(rp * std::cos(1.02 * s));
    yp.push_back(rp * std::sin(1.02 * s));
  }
  // The damped rotation's field on a 15 x 15 grid.
  std::vector<double> gx, gy, gu, gv;
  for (const double a : linspace(-2.2, 2.2, 15)) {
    for (const double b : linspace(-2.2, 2.2, 15)) {
      gx.push_back(a);
      gy.push_back(b);
      gu.push_back(-0.1 * a - b);
      gv.push_back(a - 0.1 * b);
    }
  }
  Figure fig(
      {.width_px = 1200, .height_px = 400, .rows = 1, .cols = 3, .title = "spiral, iteration 500"});
  fig.panel(0, 0)
      .set_title("Trajectories")
      .set_xlabel("t")
      .set_ylabel("x, y")
      .line(t, xt, {.color = cycle_color(0), .dashed = true, .label = "x true"})
      .line(t, xp, {.color = cycle_color(0), .label = "x predicted"})
      .line(t, yt, {.color = cycle_color(1), .dashed = true, .label = "y true"})
      .line(t, yp, {.color = cycle_color(1), .label = "y predicted"});
  fig.panel(0, 1)
      .set_title("Phase portrait")
      .set_xlabel("x")
      .set_ylabel("y")
      .set_equal_aspect()
      .line(xt, yt, {.dashed = true, .label = "true"})
      .line(xp, yp, {.label = "predicted"});
  fig.panel(0, 2)
      .set_title("Learned vector field")
      .set_xlabel("x")
      .set_ylabel("y")
      .set_equal_aspect()
      .arrows(gx, gy, gu, gv, {.color = Color::hex(0x555555)})
      .line(xp, yp, {.color = cycle_color(1), .label = "predicted"});
  const fs::path png = dir.path() / "spiral.png";
  const fs::path svg = dir.path() / "spiral.svg";
  fig.save(png);
  fig.save(svg);
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(big_endian_u32(bytes, 16), 1200u);
  EXPECT_EQ(big_endian_u32(bytes, 20), 400u);
  // Three panels of lines, arrows and glyphs compress to well over 20 kB; a blank canvas to ~2 kB.
  EXPECT_GT(bytes.size(), 20000u);
  EXPECT_NE(read_file(svg).find("</svg>"), std::string::npos);

  // The training-curve figure: loss on a log axis and NFE against iteration.
  const std::vector<double> it = linspace(0.0, 2000.0, 2001);
  std::vector<double> loss, nfe;
  for (const double i : it) {
    loss.push_back(2.0 * std::exp(-i / 300.0) + 1e-3 * (1.0 + 0.3 * std::sin(i / 7.0)));
    nfe.push_back(26.0 + 40.0 * (1.0 - std::exp(-i / 500.0)));
  }
  loss[700] = std::numeric_limits<double>::quiet_NaN();
  Figure curves(900, 350, 1, 2);
  curves.panel(0, 0)
      .set_title("Loss")
      .set_xlabel("iteration")
      .set_log_y()
      .line(it, loss, {.width_px = 1.0, .label = "train"});
  curves.panel(0, 1)
      .set_title("Function evaluations")
      .set_xlabel("iteration")
      .set_ylabel("NFE")
      .line(it, nfe, {.color = cycle_color(2), .width_px = 1.0, .label = "forward"});
  const fs::path curves_png = dir.path() / "curves.png";
  curves.save(curves_png);
  EXPECT_EQ(big_endian_u32(read_file(curves_png), 16), 900u);
}

}  // namespace
}  // namespace neuralode::plot
