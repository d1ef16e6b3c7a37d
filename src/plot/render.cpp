// Lays a figure's panels out on one canvas and encodes it as PNG or SVG in memory with cairo.
#include "plot/render.hpp"

#include <cairo-svg.h>

#include "common/text.hpp"
#include "neuralode/error.hpp"
#include "plot/axes_renderer.hpp"

namespace neuralode::detail {

namespace {

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

}  // namespace

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

}  // namespace neuralode::detail
