// The one page skeleton of nas_report (run pages and comparisons): head, inline CSS, header, nav,
// problems, sections and footer, so every page looks and behaves alike.
#pragma once

#include <string>
#include <vector>

#include "fusenas/nas/report/run_report.h"

namespace fusenas::nas::report {

struct PageParts {
  std::string heading;        // plain text: the <h1> and the start of the <title>
  std::string subtitle_html;  // trusted markup under the heading
  std::string problems_title;
  const std::vector<std::string>* problems = nullptr;  // plain text, escaped here
  const std::vector<Section>* sections = nullptr;
};

// A run folder's name: its path's last part ("runs/x/" gives "x").
std::string folder_name(const std::string& dir);

// `script`: trusted script run at the end of the body; empty, the page has none. Pages must read
// the same without it (progressive enhancement only).
std::string render_page(const PageParts& parts, const HtmlOptions& options,
                        const std::string& script = {});

}  // namespace fusenas::nas::report
