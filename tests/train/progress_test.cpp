// Progress: the redrawn terminal line and the plain periodic lines, driven by a fake clock.
#include "neuralode/train/progress.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include "neuralode/error.hpp"

namespace neuralode::train {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  double now = 1000;
  std::function<double()> fn() {
    return [this] { return now; };
  }
};

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

TEST(Progress, StatusLineShowsIterationLossNfeRateAndEta) {
  // 10 iterations in 2 s: 5 it/s, 90 left: 18 s.
  FakeClock clock;
  std::ostringstream out;
  Progress p(100, out, /*is_terminal=*/true, {.clock = clock.fn()});
  clock.now += 2;
  p.update(10, 0.1234567, 26, 32);
  EXPECT_EQ(p.status_line(), "iter 10/100  loss 0.123457  nfe 26/32  5 it/s  eta 18s");
  clock.now += 200;  // 10 in 202 s: 0.0495 it/s, 90 left: 1818 s = 30m18s
  EXPECT_EQ(p.status_line(), "iter 10/100  loss 0.123457  nfe 26/32  0.0495 it/s  eta 30m18s");
}

TEST(Progress, TerminalRedrawsOneLineInPlace) {
  FakeClock clock;
  std::ostringstream out;
  {
    Progress p(1000, out, /*is_terminal=*/true, {.redraw_seconds = 0.1, .clock = clock.fn()});
    for (int i = 1; i <= 1000; ++i) {
      clock.now += 0.01;  // 100 it/s: a redraw every 10 iterations at most
      p.update(i, 1.0 / i, 14, 20);
    }
    p.finish();
  }
  const std::string s = out.str();
  EXPECT_EQ(count(s, "\n"), 2u) << "one line ended by finish(), plus the summary";
  const auto redraws = count(s, "\r");
  EXPECT_GE(redraws, 90u);
  EXPECT_LE(redraws, 101u);  // throttled: 1000 updates over 10 s at <= 10 redraws/s, + the last
  EXPECT_NE(s.find("\riter 1000/1000  loss 0.001  nfe 14/20  100 it/s  eta 0s"), std::string::npos)
      << s;
  EXPECT_NE(s.find("done: 1000 iterations in 10.0 s (100 it/s)\n"), std::string::npos) << s;
}

TEST(Progress, TerminalPadsOverALongerPreviousLine) {
  FakeClock clock;
  std::ostringstream out;
  Progress p(10, out, true, {.redraw_seconds = 0, .clock = clock.fn()});
  clock.now += 1;
  p.update(1, 123456.789, 1000, 2000);
  const std::size_t first = out.str().size() - 1;  // without its \r
  clock.now += 1;
  p.update(2, 0.5, 1, 2);
  const std::string s = out.str();
  const std::string second = s.substr(s.rfind('\r') + 1);
  EXPECT_EQ(second.size(), first) << "the shorter line is padded with spaces to erase the longer";
  EXPECT_EQ(second.find_last_not_of(' ') + 1,
            std::string("iter 2/10  loss 0.5  nfe 1/2  1 it/s  eta 8s").size());
}

TEST(Progress, PlainModePrintsEveryNIterations) {
  FakeClock clock;
  std::ostringstream out;
  Progress p(250, out, /*is_terminal=*/false, {.print_every = 100, .clock = clock.fn()});
  for (int i = 1; i <= 250; ++i) {
    clock.now += 0.001;
    p.update(i, 0.5, 8, 8);
  }
  p.finish();
  const std::string s = out.str();
  EXPECT_EQ(count(s, "\r"), 0u);
  EXPECT_EQ(count(s, "\n"), 4u) << s;  // iterations 100, 200, the last (250), the summary
  EXPECT_NE(s.find("iter 100/250 "), std::string::npos);
  EXPECT_NE(s.find("iter 200/250 "), std::string::npos);
  EXPECT_NE(s.find("iter 250/250 "), std::string::npos);
  EXPECT_NE(s.find("done: 250 iterations"), std::string::npos);
}

TEST(Progress, PlainModePrintsAboutEveryTenSecondsWhenSlow) {
  // 4 s per iteration, print_every 100: the 10-second rule prints at iterations 3, 6, 9 (12 s
  // after the previous line each), then the last.
  FakeClock clock;
  std::ostringstream out;
  Progress p(10, out, false, {.print_every = 100, .print_every_seconds = 10, .clock = clock.fn()});
  for (int i = 1; i <= 10; ++i) {
    clock.now += 4;
    p.update(i, 1.0, 2, 3);
  }
  const std::string s = out.str();
  EXPECT_EQ(count(s, "\n"), 4u) << s;
  EXPECT_NE(s.find("iter 3/10 "), std::string::npos) << s;
  EXPECT_NE(s.find("iter 6/10 "), std::string::npos) << s;
  EXPECT_NE(s.find("iter 9/10 "), std::string::npos) << s;
  EXPECT_NE(s.find("iter 10/10 "), std::string::npos) << s;
}

TEST(Progress, FinishShowsTheLastStateOnceAndIsIdempotent) {
  FakeClock clock;
  std::ostringstream out;
  Progress p(1000, out, false, {.clock = clock.fn()});
  clock.now += 1;
  p.update(7, 0.25, 1, 1);  // interrupted early: not printed by the every-100 rule
  EXPECT_TRUE(out.str().empty());
  p.finish();
  p.finish();
  EXPECT_EQ(out.str(),
            "iter 7/1000  loss 0.25  nfe 1/1  7 it/s  eta 2m22s\n"
            "done: 7 iterations in 1.0 s (7 it/s)\n");
}

TEST(Progress, ResumedRunCountsOnlyItsOwnIterations) {
  // Resumed at 500 of 1000: 50 more in 5 s is 10 it/s, 450 left: 45 s.
  FakeClock clock;
  std::ostringstream out;
  Progress p(1000, out, false, {.start_iteration = 500, .clock = clock.fn()});
  clock.now += 5;
  p.update(550, 0.5, 1, 1);
  EXPECT_EQ(p.status_line(), "iter 550/1000  loss 0.5  nfe 1/1  10 it/s  eta 45s");
}

TEST(Progress, TerminalLineIsEndedWhenDestroyedWithoutFinish) {
  std::ostringstream out;
  {
    Progress p(10, out, true, {.redraw_seconds = 0});
    p.update(1, 0.5, 1, 1);
  }
  EXPECT_EQ(out.str().back(), '\n');
}

TEST(Progress, RejectsBadArguments) {
  std::ostringstream out;
  EXPECT_THROW(Progress(0, out, false), InvalidArgument);
  EXPECT_THROW(Progress(10, out, false, {.print_every = 0}), InvalidArgument);
  EXPECT_THROW(Progress(10, out, false, {.start_iteration = 11}), InvalidArgument);
  Progress p(10, out, false);
  p.update(5, 0, 0, 0);
  EXPECT_THROW(p.update(4, 0, 0, 0), InvalidArgument);   // going backwards
  EXPECT_THROW(p.update(11, 0, 0, 0), InvalidArgument);  // past the total
}

TEST(Progress, OnlyTheStandardStreamsCanBeTerminals) {
  std::ostringstream out;
  EXPECT_FALSE(is_terminal(out));
  // std::cout is one only when the test runs attached to a terminal; either answer is valid,
  // but it must agree with isatty.
  (void)is_terminal(std::cout);
}

}  // namespace
}  // namespace neuralode::train
