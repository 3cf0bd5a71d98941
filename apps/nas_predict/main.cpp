// nas_predict: the train-less accuracy predictor (TAPAS) on the command line: gather earlier
// searches' trials into a database, train the predictor on it, predict an architecture's
// accuracy without training it, and evaluate the predictor's ranking on other data.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "../common/app_support.h"
#include "../common/cli_checks.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/estimate/tapas.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/train/arch_file.h"

namespace {

namespace fs = std::filesystem;
namespace tapas = fusenas::nas::estimate::tapas;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A warning when the model never saw this fidelity: with one trained fidelity the fidelity inputs
// are constants, and a prediction elsewhere is an extrapolation (ref-chain at 10 epochs from a
// model of 3-epoch trials: MAE 13 points, though the ranking held).
std::string fidelity_warning(const nlohmann::json& trained_on, const tapas::Fidelity& f) {
  std::string seen;
  for (const auto& t : trained_on.value("fidelities", nlohmann::json::array())) {
    if (t.value("epochs", 0) == f.epochs && t.value("train_images", 0) == f.train_images &&
        t.value("downscale", 1) == f.downscale)
      return {};
    seen += fmt::format("{}{} epochs x {} images", seen.empty() ? "" : ", ", t.value("epochs", 0),
                        t.value("train_images", 0));
  }
  return fmt::format(
      "warning: the model was trained at {} only; {} epochs x {} images (downscale {}) is an "
      "extrapolation: trust its ranking more than its values",
      seen, f.epochs, f.train_images, f.downscale);
}

struct GatherArgs {
  std::vector<std::string> runs;
  std::string out = "predictor_data.json";
  std::string data_dir;
  bool update = false;
  tapas::ProbeConfig probe;
};

int run_gather(const GatherArgs& a) {
  tapas::PredictorData existing;
  if (fs::exists(a.out)) {
    FUSENAS_CHECK(a.update, "{} exists; --update adds the runs' new trials to it", a.out);
    existing = tapas::PredictorData::load(a.out);
  }
  fusenas::io::check_writable(a.out);
  tapas::GatherOptions o;
  o.probe = a.probe;
  o.data_dir = a.data_dir;
  tapas::GatherReport rep;
  const size_t before = existing.examples.size();
  const tapas::PredictorData d = tapas::gather(a.runs, o, std::move(existing), &rep);
  d.save(a.out);
  for (const std::string& note : rep.notes) fmt::print(stderr, "nas_predict: {}\n", note);
  int64_t trials = 0;
  for (const auto& e : d.examples) trials += e.trials;
  fmt::print("read {} trials of {} runs: kept {}", rep.trials, a.runs.size(), rep.kept);
  for (const auto& [why, n] : rep.skipped) fmt::print(", skipped {} ({})", n, why);
  fmt::print("\nexamples: {} ({} new), {} trials in all, from {} runs\n", d.examples.size(),
             d.examples.size() - before, trials, d.runs.size());
  for (const auto& [name, diff] : d.datasets)
    fmt::print("dataset {}: DCN {:.4f} (probe: {} epochs on {} images, {:.1f} s)\n", name, diff.dcn,
               diff.probe.epochs, diff.probe.train_images, diff.seconds);
  fmt::print("data: {}\n", a.out);
  return 0;
}

int run_train(const std::string& data_path, const std::string& out,
              const tapas::PredictorOptions& options) {
  const tapas::PredictorData d = tapas::PredictorData::load(data_path);
  fs::create_directories(out);
  fusenas::io::check_writable((fs::path(out) / tapas::Predictor::kModelFile).string());
  const tapas::Predictor p = tapas::Predictor::train(d, options);
  p.save(out);
  const nlohmann::json& t = p.trained_on();
  std::string fids;
  for (const auto& f : t["fidelities"])
    fids += fmt::format("{}{} epochs x {} images: {}", fids.empty() ? "" : "; ",
                        f["epochs"].get<int64_t>(), f["train_images"].get<int64_t>(),
                        f["examples"].get<int64_t>());
  fmt::print("trained on {} examples ({} trials) of {}; spaces {}; datasets {}\n",
             t["examples"].get<int64_t>(), t["trials"].get<int64_t>(), data_path,
             t["spaces"].dump(), t["datasets"].dump());
  fmt::print("fidelities: {}\n", fids);
  fmt::print("{} model, ensemble of {}, {} Adam steps: {:.2f} s; training MAE {:.2f} points\n",
             options.model, options.ensemble, options.steps, t["seconds"].get<double>(),
             t["train_mae"].get<double>());
  fmt::print("model: {}\n", out);
  return 0;
}

struct PredictArgs {
  std::string model, arch_file, space, space_options = "{}", dataset, data_dir;
  int64_t epochs = 0, train_subset = -1, downscale = 1;
  double train_portion = 0, dcn = -1;
};

int run_predict(const PredictArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json options;
  try {
    options = nlohmann::json::parse(a.space_options);
  } catch (const nlohmann::json::exception&) {
    FUSENAS_FAIL("--space-options must be a JSON object, got '{}'", a.space_options);
  }
  const tapas::Predictor p = tapas::Predictor::load(a.model);
  const fusenas::nas::ArchFile f = fusenas::nas::read_arch_file(a.arch_file, a.space, options);
  // An incumbent's search fixes what the flags leave open: its dataset and fidelity.
  nlohmann::json search = nlohmann::json::object();
  const fs::path beside = fs::path(a.arch_file).parent_path() / "config.json";
  if (f.trial >= 0 && fs::is_regular_file(beside)) {
    try {
      search = nlohmann::json::parse(fusenas::io::read_file(beside.string()));
    } catch (const nlohmann::json::exception&) {
      FUSENAS_FAIL("{} is not valid JSON", beside.string());
    }
  }
  tapas::Query q;
  q.space = f.space;
  q.space_options = f.space_options;
  q.arch = f.arch;
  q.dataset = !a.dataset.empty() ? a.dataset : search.value("dataset", "fashion-mnist");
  q.fidelity.epochs = a.epochs > 0 ? a.epochs : search.value("epochs", int64_t{0});
  FUSENAS_CHECK(q.fidelity.epochs > 0,
                "give --epochs: {} is no incumbent beside a config.json that names them",
                a.arch_file);
  const int64_t subset =
      a.train_subset >= 0 ? a.train_subset : search.value("train_subset", int64_t{10000});
  const double portion = a.train_portion > 0 ? a.train_portion : search.value("train_portion", 0.5);
  const int64_t size = q.dataset == "cifar10" ? 50000 : 60000;
  q.fidelity.train_images = static_cast<int64_t>(
      portion * static_cast<double>(subset > 0 ? std::min(subset, size) : size));
  q.fidelity.downscale = a.downscale;
  std::string dcn_source = "the model's";
  if (a.dcn >= 0) {
    q.dcn = a.dcn;
    dcn_source = "given";
  } else if (const auto known = p.dcn(q.dataset)) {
    q.dcn = *known;
  } else {
    const tapas::Difficulty d = tapas::dataset_difficulty(q.dataset, a.data_dir);
    q.dcn = d.dcn;
    dcn_source = fmt::format("probed in {:.1f} s", d.seconds);
  }
  const double acc = p.predict(q);
  const std::string warning = fidelity_warning(p.trained_on(), q.fidelity);
  if (!warning.empty()) fmt::print(stderr, "nas_predict: {}\n", warning);
  const auto space = fusenas::nas::space::make_arch_space(q.space, q.space_options);
  const nlohmann::json& t = p.trained_on();
  fmt::print("arch ({}): {}\n", q.space, space->to_text(q.arch));
  fmt::print("{}: {} epochs on {} images, downscale {}; DCN {:.4f} ({})\n", q.dataset,
             q.fidelity.epochs, q.fidelity.train_images, q.fidelity.downscale, q.dcn, dcn_source);
  fmt::print("model: trained on {} examples ({} trials)\n", t.value("examples", 0),
             t.value("trials", 0));
  fmt::print("predicted search-val accuracy: {:.2f}% ({:.3f} s)\n", acc, seconds_since(start));
  return 0;
}

int run_eval(const std::string& model, const std::string& data_path, bool list) {
  const tapas::Predictor p = tapas::Predictor::load(model);
  const tapas::PredictorData d = tapas::PredictorData::load(data_path);
  const auto start = std::chrono::steady_clock::now();
  const tapas::Evaluation ev = tapas::evaluate(p, d);
  const double secs = seconds_since(start);
  std::set<std::string> warned;
  for (const auto& e : d.examples) {
    const std::string w = fidelity_warning(p.trained_on(), e.fidelity);
    if (!w.empty() && warned.insert(w).second) fmt::print(stderr, "nas_predict: {}\n", w);
  }
  if (list) {
    for (size_t i = 0; i < d.examples.size(); ++i) {
      const auto& e = d.examples[i];
      const auto space = fusenas::nas::space::make_arch_space(e.space, e.space_options);
      fmt::print("{:7.2f} {:7.2f}  {}\n", ev.truth[i], ev.predicted[i], space->to_text(e.arch));
    }
  }
  fmt::print(
      "{} examples: Kendall tau {:.3f}, Spearman rho {:.3f}, mean absolute error {:.2f} points "
      "({:.3f} s to predict all)\n",
      ev.n, ev.kendall_tau, ev.spearman_rho, ev.mae, secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace fusenas;
  apps::tune_process(argv);
  CLI::App app{
      "nas_predict: a train-less accuracy predictor after TAPAS (Istrate et al. 2018). gather "
      "collects the done trials of chain and multibranch searches (their trials.sqlite) into "
      "one database and measures each dataset's difficulty with a small probe network; train "
      "fits the predictor (an MLP or LSTM over the layer features, fed the difficulty and "
      "the training fidelity); predict scores an architecture without training it; eval compares "
      "predictions with the accuracies of other data."};
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("nas_predict: {} (see --help)\n", apps::one_line(e.what()));
  });
  apps::add_version_flag(app, "nas_predict");
  app.require_subcommand(1);
  int threads = 1;
  app.add_option("--threads", threads,
                 "CPU threads of the engine; 0 = all cores (the predictor's tensors are tiny)")
      ->check(apps::int_range_check(0, 1 << 16));

  GatherArgs g;
  CLI::App* gather = app.add_subcommand("gather", "Gather run folders into a predictor database");
  gather->add_option("runs", g.runs, "nas_search run folders (trials.sqlite + config.json)")
      ->required();
  gather->add_option("--out", g.out, "The database to write")->capture_default_str();
  gather->add_flag("--update", g.update,
                   "Add to an existing --out (trials already in it count once)");
  gather->add_option("--data-dir", g.data_dir,
                     "Dataset folder for the difficulty probe [default: the runs' own]");
  gather->add_option("--probe-epochs", g.probe.epochs, "Epochs of the difficulty probe")
      ->check(apps::int_range_check(1, 100))
      ->capture_default_str();
  gather
      ->add_option("--probe-images", g.probe.train_images,
                   "Training images of the probe (the next 2000 validate it)")
      ->check(apps::int_range_check(10, 25000))
      ->capture_default_str();

  std::string data_path, train_out = "predictor";
  tapas::PredictorOptions po;
  CLI::App* train = app.add_subcommand("train", "Train the predictor on a database");
  train->add_option("--data", data_path, "A database written by gather")->required();
  train->add_option("--out", train_out, "The model folder to write")->capture_default_str();
  train->add_option("--model", po.model, "mlp (mean and max over the layers) or lstm (over them)")
      ->check(CLI::IsMember({"lstm", "mlp"}))
      ->capture_default_str();
  train->add_option("--hidden", po.hidden, "LSTM state and head width")
      ->check(apps::int_range_check(1, 1024))
      ->capture_default_str();
  train->add_option("--steps", po.steps, "Full-batch Adam steps")
      ->check(apps::int_range_check(1, 1000000))
      ->capture_default_str();
  train->add_option("--lr", po.lr, "Adam's learning rate")->capture_default_str();
  train->add_option("--ensemble", po.ensemble, "Members averaged (seeds seed, seed + 1, ...)")
      ->check(apps::int_range_check(1, 64))
      ->capture_default_str();
  train->add_option("--seed", po.seed, "Initial weights")->check(apps::seed_check());

  PredictArgs pa;
  CLI::App* predict = app.add_subcommand("predict", "Predict an architecture's accuracy");
  predict->add_option("--model", pa.model, "A model folder written by train")->required();
  predict
      ->add_option("--arch-file", pa.arch_file,
                   "A nas_search incumbent.json, or a bare point of --space")
      ->required();
  predict->add_option("--space", pa.space, "chain or multibranch: the space of a bare point");
  predict->add_option("--space-options", pa.space_options,
                      "Space options (a JSON object) put over the search's");
  predict->add_option("--dataset", pa.dataset,
                      "fashion-mnist or cifar10 [default: the incumbent's search's, else "
                      "fashion-mnist]");
  predict->add_option("--epochs", pa.epochs, "Training epochs [default: the incumbent's search's]")
      ->check(apps::int_range_check(1, 100000));
  predict
      ->add_option("--train-subset", pa.train_subset,
                   "Training images before the split, as nas_search's flag; 0 = all "
                   "[default: the incumbent's search's, else 10000]")
      ->check(apps::int_range_check(0, 1 << 30));
  predict
      ->add_option("--train-portion", pa.train_portion,
                   "Share of them trained on [default: the search's, else 0.5]")
      ->check(CLI::Range(1e-6, 1.0));
  predict->add_option("--downscale", pa.downscale, "Image downscale factor")
      ->check(apps::int_range_check(1, 8));
  predict
      ->add_option("--dcn", pa.dcn,
                   "The dataset's difficulty in [0, 1] [default: the model's, else probed]")
      ->check(CLI::Range(0.0, 1.0));
  predict->add_option("--data-dir", pa.data_dir, "Dataset folder, should the probe run");

  std::string eval_model, eval_data;
  bool eval_list = false;
  CLI::App* eval = app.add_subcommand("eval", "Kendall tau, Spearman rho and MAE on a database");
  eval->add_option("--model", eval_model, "A model folder written by train")->required();
  eval->add_option("--data", eval_data, "A database written by gather")->required();
  eval->add_flag("--list", eval_list, "Also print true and predicted accuracy per example");

  app.footer(
      "Examples:\n"
      "  nas_predict gather runs/chain-* --out predictor_data.json\n"
      "  nas_predict train --data predictor_data.json --out predictor\n"
      "  nas_predict predict --model predictor --arch-file runs/search-x/incumbent.json "
      "--epochs 10\n"
      "  nas_predict gather runs/ref-chain --out ref.json && nas_predict eval --model "
      "predictor --data ref.json\n"
      "Exit status: 0 done, 1 error (one line on stderr), 2 bad flags.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    nas::use_threads(apps::usable_threads(threads, "nas_predict"));
    if (gather->parsed()) return run_gather(g);
    if (train->parsed()) return run_train(data_path, train_out, po);
    if (predict->parsed()) return run_predict(pa);
    return run_eval(eval_model, eval_data, eval_list);
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_predict: {}\n", apps::one_line(e.what()));
    return 1;
  }
}
