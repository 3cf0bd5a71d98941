// Fortunes loader: Debian's fortune files as the default language-modelling corpus (a stand-in
// for PTB that installs with apt, not PTB).
#include "fusenas/engine/data/text_corpus.h"

#include <algorithm>
#include <filesystem>

#include "fusenas/engine/error.h"
#include "text_lines.h"

namespace fusenas::data {
namespace {

namespace fs = std::filesystem;

// The fortune text files of `dir`, sorted by name. strfile's .dat indexes are binary and the .u8
// names are symlinks to the same text, so regular files other than *.dat are the corpus;
// subfolders (other languages' packages, fortunes-off) are left out.
std::vector<std::string> fortune_files(const std::string& dir) {
  std::error_code ec;
  FUSENAS_CHECK(fs::is_directory(dir, ec),
                "{}: fortunes folder not found (install Debian's fortunes package: apt-get install "
                "fortunes, or run scripts/deps.sh)",
                dir);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const bool index = name.ends_with(".dat") || name.ends_with(".u8");
    if (entry.is_symlink(ec) || !entry.is_regular_file(ec) || index || name.starts_with(".")) {
      continue;
    }
    files.push_back(entry.path().string());
  }
  FUSENAS_CHECK(!ec, "{}: cannot list the folder: {}", dir, ec.message());
  FUSENAS_CHECK(!files.empty(),
                "{}: holds no fortune files (install Debian's fortunes package: apt-get install "
                "fortunes)",
                dir);
  std::sort(files.begin(), files.end());
  return files;
}

// Entries: the runs of lines between lines holding a single "%"; empty runs are dropped.
std::vector<text::Lines> entries_of(const text::Lines& lines) {
  std::vector<text::Lines> entries(1);
  for (const std::string_view line : lines) {
    if (line == "%") {
      entries.emplace_back();
    } else {
      entries.back().push_back(line);
    }
  }
  std::erase_if(entries, [](const text::Lines& e) { return e.empty(); });
  return entries;
}

void append(text::Lines& to, std::vector<text::Lines>::const_iterator begin,
            std::vector<text::Lines>::const_iterator end) {
  for (auto it = begin; it != end; ++it) to.insert(to.end(), it->begin(), it->end());
}

}  // namespace

TextCorpus load_fortunes(const std::string& dir, const TextOptions& options) {
  text::check_options(options);
  const std::vector<std::string> files = fortune_files(dir);
  std::vector<std::string> contents;
  contents.reserve(files.size());
  for (const auto& f : files) contents.push_back(text::read_file(f));

  // Each file is split on its own (first entries train, then valid, then test), so every topic
  // feeds every split; a split is the files' parts in sorted file order.
  text::SplitLines split;
  text::SplitSizes total;
  for (const std::string& content : contents) {
    const std::vector<text::Lines> entries = entries_of(text::split_lines(content));
    const text::SplitSizes sizes = text::split_sizes(static_cast<int64_t>(entries.size()), options);
    const auto valid_begin = entries.begin() + sizes.train;
    const auto test_begin = valid_begin + sizes.valid;
    append(split.train, entries.begin(), valid_begin);
    append(split.valid, valid_begin, test_begin);
    append(split.test, test_begin, entries.end());
    total.train += sizes.train;
    total.valid += sizes.valid;
    total.test += sizes.test;
  }
  text::check_split(total, options, dir, "fortune entries");
  TextCorpus corpus = text::build_corpus("fortunes", split, options.level, options.max_vocab);
  corpus.sources = files;
  return corpus;
}

}  // namespace fusenas::data
