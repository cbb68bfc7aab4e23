#include "sgnn/coord/coordinator.hpp"

#include "sgnn/clock.hpp"

#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/io/atomic_file.hpp"
#include "sgnn/io/installation.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/io/subprocess.hpp"
#include "sgnn/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>

namespace sgnn::coord {
Coordinator::Coordinator(const stream::Communicators& comms, const stream::RankLayout& layout,
                         const PriorSchedule& schedule, CoordinatorConfig config, checkpoint::Writer& checkpoints)
    : comms_(comms),
      layout_(layout),
      schedule_(schedule),
      config_(std::move(config)),
      checkpoints_(checkpoints),
      started_(std::chrono::steady_clock::now()) {
    if (!config_.out_dir.empty()) {
        io::write_file_atomically(config_.out_dir + "/config.ini", config_.effective_config);
        std::vector<std::string> columns = {"step",          "samples",        "elapsed_s",     "samples_per_s",
                                            "train_loss",    "eval_loss",      "learning_rate", "prior_version",
                                            "wait_fraction", "dropped_samples"};
        for (const auto& name : config_.target_names) columns.push_back("r2_" + name);
        for (const auto& name : config_.target_names) columns.push_back("rmse_" + name);
        if (!config_.class_names.empty()) {
            columns.push_back("accuracy");
            columns.push_back("cross_entropy");
        }
        if (config_.calibrated) {
            for (double level : comm::kCredibleLevels) columns.push_back("coverage_" + format_number(100 * level));
            for (const auto& name : config_.target_names) columns.push_back("sbc_p_" + name);
        }
        metrics_ = std::make_unique<io::CsvTable>(config_.out_dir + "/metrics.csv", columns);
        if (config_.resume != nullptr) metrics_->restore(config_.resume->metrics_csv);
        metrics_->save();
    }
    comm::check_mpi(MPI_Irecv(&incoming_, sizeof incoming_, MPI_BYTE, layout.trainer_rank(0), comm::kTagReport,
                              comms.control(), &report_request_),
                    "MPI_Irecv(trainer report)");
    comm::check_mpi(MPI_Irecv(&signal_notice_, 1, MPI_INT32_T, MPI_ANY_SOURCE, comm::kTagStopSignal, comms.control(),
                              &signal_receive_),
                    "MPI_Irecv(stop signal notice)");
    // Two stages ahead of need: the next one is always published before any simulator
    // can reach it, so simulators do not stall at stage boundaries. (A resumed run
    // starts at the stage of its first batch.)
    const int first = static_cast<int>(schedule_.stage_for_batch(config_.first_batch).version);
    publish(first);
    if (first + 1 < schedule_.stage_count()) publish(first + 1);
}

Coordinator::~Coordinator() {
    for (MPI_Request* request : {&report_request_, &signal_receive_}) {
        comm::cancel(*request, "MPI_Cancel(coordinator receive)");
    }
}

void Coordinator::request_checkpoint(std::int32_t flags, std::int32_t signal) {
    if ((flags & comm::kRequestStop) != 0) {
        if (stop_requested_) return;
        stop_requested_ = true;
    }
    last_checkpoint_ = seconds_since(started_);  // no time-based request right behind this one
    const comm::CheckpointRequest request{flags, signal, ++last_request_id_, 0};
    for (int t = 0; t < layout_.trainers(); ++t) {
        request_messages_.push_back(request);
        MPI_Request send;
        comm::check_mpi(MPI_Isend(&request_messages_.back(), sizeof request, MPI_BYTE, layout_.trainer_rank(t),
                                  comm::kTagCheckpointRequest, comms_.control(), &send),
                        "MPI_Isend(checkpoint request)");
        request_sends_.push_back(send);
    }
}

// Signals (here or forwarded by another rank) and the checkpoint clock.
bool Coordinator::watch_for_requests() {
    bool any = false;
    if (config_.out_dir.empty() || received_final_) return false;
    int arrived = 0;
    comm::check_mpi(MPI_Test(&signal_receive_, &arrived, MPI_STATUS_IGNORE), "MPI_Test(stop signal notice)");
    std::int32_t signal = arrived ? signal_notice_ : checkpoint::pending_stop_signal();
    if (arrived) {
        comm::check_mpi(MPI_Irecv(&signal_notice_, 1, MPI_INT32_T, MPI_ANY_SOURCE, comm::kTagStopSignal,
                                  comms_.control(), &signal_receive_),
                        "MPI_Irecv(stop signal notice)");
    }
    if (signal != 0 && !stop_requested_) {
        if (!config_.quiet) {
            // Only a request: when the launcher sends this signal because a rank died,
            // no checkpoint follows, and "checkpoint at step N" is printed only for one that was written.
            std::printf(
                "[sgnn] %s received: asking the trainers for a checkpoint after the current step, "
                "then stopping\n",
                checkpoint::stop_signal_name(signal));
            std::fflush(stdout);
        }
        request_checkpoint(comm::kRequestCheckpoint | comm::kRequestStop, signal);
        any = true;
    } else if (config_.checkpoint_minutes > 0 &&
               seconds_since(started_) - last_checkpoint_ >= 60.0 * config_.checkpoint_minutes) {
        request_checkpoint(comm::kRequestCheckpoint, 0);
        any = true;
    }
    if (comm::test_all(request_sends_, "MPI_Testall(checkpoint requests)")) request_messages_.clear();
    return any;
}

// The run record's checkpoint part (checkpoint/schema.hpp); a resumed run reads the
// configuration and the metrics rows back through checkpoint::Contents.
std::vector<io::Dataset> Coordinator::checkpoint_state() const {
    namespace schema = checkpoint::schema;
    std::vector<io::Dataset> datasets;
    datasets.push_back(io::make_text_dataset(schema::kConfig, config_.effective_config));
    datasets.push_back(io::make_text_dataset(schema::kMetricsCsv, metrics_ ? metrics_->text() : std::string()));
    std::vector<double> stages;
    for (int v = 0; v < schedule_.stage_count(); ++v) {
        const comm::ScheduleStage& stage = schedule_.stage(v);
        for (double x : {static_cast<double>(stage.version), static_cast<double>(stage.first_batch),
                         static_cast<double>(stage.valid_until), stage.width}) {
            stages.push_back(x);
        }
    }
    datasets.push_back(
        io::make_dataset(schema::kScheduleStages, stages, {static_cast<std::uint64_t>(schedule_.stage_count()), 4}));
    datasets.push_back(io::make_dataset<std::int64_t>(schema::kPublishedVersion, {published_}));
    return datasets;
}

// The root attributes (checkpoint::root_attributes names them).
std::map<std::string, std::string> Coordinator::checkpoint_attributes(std::int64_t step) const {
    checkpoint::RootAttributes record;
    record.run_id = config_.run_id;
    record.step = step;
    record.trainers = layout_.trainers();
    record.simulators = static_cast<int>(layout_.simulator_ranks().size());
    record.seed = config_.seed;
    record.deterministic = config_.deterministic;
    record.batch_size = config_.batch_size;
    record.batch_origin = config_.batch_origin;
    record.origin_step = config_.origin_step;
    record.config_ini = config_.effective_config;
    record.sgnn_version = config_.sgnn_version;
    return checkpoint::root_attributes(record);
}

void Coordinator::write_checkpoint(const comm::TrainerReport& report) {
    const std::string path = checkpoint::checkpoint_path(config_.out_dir, report.step);
    const auto start = std::chrono::steady_clock::now();
    checkpoints_.contribute(path, checkpoint_state(), checkpoint_attributes(report.step));
    checkpoint::prune_checkpoints(checkpoint::checkpoint_directory(config_.out_dir), config_.checkpoint_keep,
                                  config_.run_id);
    last_checkpoint_ = seconds_since(started_);
    if (!config_.quiet) {
        std::printf("[sgnn] checkpoint at step %lld: %s (%.1f s)\n", static_cast<long long>(report.step), path.c_str(),
                    seconds_since(start));
        std::fflush(stdout);
    }
}

void Coordinator::report_stop(const comm::TrainerReport& report) {
    received_final_ = true;
    stopped_ = true;
    std::printf("[sgnn] stopped on %s after step %lld; resume with: sgnn train --resume %s\n",
                checkpoint::stop_signal_name(report.signal), static_cast<long long>(report.step),
                config_.out_dir.c_str());
    std::fflush(stdout);
}

void Coordinator::publish(int version) {
    published_ = version;
    // The inline source reads the schedule directly; a corpus has none.
    if (layout_.single_process() || !config_.live_simulators) return;
    for (int rank : layout_.simulator_ranks()) {
        stage_messages_.push_back(schedule_.stage(version));
        MPI_Request request;
        comm::check_mpi(MPI_Isend(&stage_messages_.back(), sizeof(comm::ScheduleStage), MPI_BYTE, rank,
                                  comm::kTagScheduleStage, comms_.control(), &request),
                        "MPI_Isend(schedule stage)");
        stage_requests_.push_back(request);
    }
}

bool Coordinator::poll() {
    if (finished_) return false;
    bool any = false;
    while (!received_final_) {
        int arrived = 0;
        comm::check_mpi(MPI_Test(&report_request_, &arrived, MPI_STATUS_IGNORE), "MPI_Test(trainer report)");
        if (!arrived) break;
        const comm::TrainerReport report = incoming_;
        if (report.kind != comm::ReportKind::final && report.kind != comm::ReportKind::stopped) {
            comm::check_mpi(MPI_Irecv(&incoming_, sizeof incoming_, MPI_BYTE, layout_.trainer_rank(0), comm::kTagReport,
                                      comms_.control(), &report_request_),
                            "MPI_Irecv(trainer report)");
        }
        handle(report);
        any = true;
    }
    any |= watch_for_requests();
    if (comm::test_all(stage_requests_, "MPI_Testall(schedule stages)")) stage_messages_.clear();
    if (received_final_ && comm::test_all(request_sends_, "MPI_Testall(checkpoint requests)")) {
        request_messages_.clear();
    }
    finished_ = received_final_ && stage_requests_.empty() && request_sends_.empty();
    return any;
}

void Coordinator::handle(const comm::TrainerReport& report) {
    step_rate_.update(report.elapsed_seconds, static_cast<double>(report.step));
    sample_rate_.update(report.elapsed_seconds, report.samples);
    // Stay one stage ahead of the trainers: they report as soon as they enter a stage.
    while (published_ + 1 < schedule_.stage_count() && published_ <= static_cast<int>(report.schedule_version)) {
        publish(published_ + 1);
    }
    switch (report.kind) {
        case comm::ReportKind::progress:
            if (config_.progress_interval > 0 && seconds_since(started_) - last_print_ >= config_.progress_interval) {
                print_line(report, false);
            }
            break;
        case comm::ReportKind::evaluation:
            record_evaluation(report);
            print_line(report, true);
            break;
        case comm::ReportKind::final:
            record_evaluation(report);
            finish(report);
            break;
        case comm::ReportKind::checkpoint:
            write_checkpoint(report);
            break;
        case comm::ReportKind::stopped:
            report_stop(report);
            break;
    }
}

void Coordinator::print_line(const comm::TrainerReport& report, bool evaluation) {
    last_print_ = seconds_since(started_);
    if (config_.quiet) return;
    // Until the smoothed rates have two reports to work from, use the run's average.
    const double average_steps_per_s = static_cast<double>(report.step) / std::max(1e-9, report.elapsed_seconds);
    const double steps_per_s = step_rate_.per_second() > 0 ? step_rate_.per_second() : average_steps_per_s;
    const double remaining = static_cast<double>(config_.total_steps - report.step);
    const double eta = steps_per_s > 0 ? remaining / steps_per_s : std::numeric_limits<double>::quiet_NaN();
    std::printf("[sgnn] step %*lld/%lld %3.0f%% | %s samples/s | loss %.4f | wait %2.0f%% | prior v%u | ETA %s",
                static_cast<int>(std::to_string(config_.total_steps).size()), static_cast<long long>(report.step),
                static_cast<long long>(config_.total_steps),
                100.0 * static_cast<double>(report.step) / static_cast<double>(config_.total_steps),
                format_count(sample_rate_.per_second() > 0 ? sample_rate_.per_second()
                                                           : report.samples / std::max(1e-9, report.elapsed_seconds))
                    .c_str(),
                report.train_loss, 100.0 * report.wait_fraction, report.schedule_version, format_duration(eta).c_str());
    if (report.dropped_samples > 0) std::printf(" | dropped %s", format_count(report.dropped_samples).c_str());
    if (evaluation) {
        std::printf(" | eval loss %.4f", report.eval_loss);
        if (report.n_classes > 0) std::printf(" accuracy %.3f", report.eval_accuracy);
        if (report.n_targets > 0) std::printf(" R2");
        for (int j = 0; j < report.n_targets; ++j) {
            std::printf(" %s %.3f", config_.target_names[static_cast<std::size_t>(j)].c_str(), report.eval_r2[j]);
        }
    }
    std::printf("\n");
    std::fflush(stdout);
}

void Coordinator::record_evaluation(const comm::TrainerReport& report) {
    if (!metrics_) return;
    const double rate = report.elapsed_seconds > 0 ? report.samples / report.elapsed_seconds : 0.0;
    std::vector<double> row = {static_cast<double>(report.step),
                               report.samples,
                               report.elapsed_seconds,
                               rate,
                               report.train_loss,
                               report.eval_loss,
                               report.learning_rate,
                               static_cast<double>(report.schedule_version),
                               report.wait_fraction,
                               report.dropped_samples};
    for (int j = 0; j < report.n_targets; ++j) row.push_back(report.eval_r2[j]);
    for (int j = 0; j < report.n_targets; ++j) row.push_back(report.eval_rmse[j]);
    if (report.n_classes > 0) {
        row.push_back(report.eval_accuracy);
        row.push_back(report.eval_cross_entropy);
    }
    if (config_.calibrated) {
        for (int l = 0; l < comm::kCoverageLevels; ++l) row.push_back(mean_coverage(report, l));
        for (int j = 0; j < report.n_targets; ++j) row.push_back(report.eval_sbc_p[j]);
    }
    metrics_->add_row(row);
    metrics_->save();
}

void Coordinator::finish(const comm::TrainerReport& report) {
    received_final_ = true;
    const double rate = report.elapsed_seconds > 0 ? report.samples / report.elapsed_seconds : 0.0;
    io::Json r2 = io::Json::object(), rmse = io::Json::object();
    for (int j = 0; j < report.n_targets; ++j) {
        r2[config_.target_names[static_cast<std::size_t>(j)]] = report.eval_r2[j];
        rmse[config_.target_names[static_cast<std::size_t>(j)]] = report.eval_rmse[j];
    }
    summary_ = io::Json{
        {"name", config_.run_name},
        {"seed", config_.seed},
        {"deterministic", config_.deterministic},
        {"steps", report.step},
        {"samples", report.samples},
        {"wall_seconds", seconds_since(started_)},
        {"train_seconds", report.elapsed_seconds},
        {"eval", {{"loss", report.eval_loss}, {"r2", r2}, {"rmse", rmse}}},
        {"throughput",
         {{"samples_per_s", rate},
          {"trainer_wait_fraction", report.wait_fraction},
          {"max_buffered_batches", report.max_buffered_batches}}},
        {"ranks",
         {{"world", layout_.world_size()},
          {"coordinator", 1},
          {"trainers", layout_.trainers()},
          {"simulators", static_cast<int>(layout_.simulator_ranks().size())},
          {"dedicated_simulators", layout_.dedicated_simulators()},
          {"inline_simulation", layout_.single_process()}}},
        {"faults", {{"dropped_samples", report.dropped_samples}}},
        {"prior_version", report.schedule_version},
        {"model_sha256", std::string(report.model_sha256)},
        {"config_sha256", io::sha256_hex(config_.effective_config)},
        {"run_id", config_.run_id},
    };
    if (config_.resume != nullptr) {
        summary_["resumed_from"] = {{"checkpoint", config_.resume->path},
                                    {"step", config_.resume->step},
                                    {"trainers", config_.resume->trainers}};
    }
    if (report.n_classes > 0) {
        // Confusion counts by true mechanism (rows) and predicted mechanism (columns).
        const int k = report.n_classes;
        io::Json confusion = io::Json::array();
        for (int t = 0; t < k; ++t) {
            io::Json row = io::Json::array();
            for (int p = 0; p < k; ++p) row.push_back(report.eval_confusion[t * k + p]);
            confusion.push_back(row);
        }
        summary_["eval"]["classification"] = {{"classes", config_.class_names},
                                              {"accuracy", report.eval_accuracy},
                                              {"error_rate", 1.0 - report.eval_accuracy},
                                              {"cross_entropy", report.eval_cross_entropy},
                                              {"confusion", confusion}};
    }
    if (report.calibrated) record_calibration(report);
    if (!config_.out_dir.empty()) io::write_json_file(config_.out_dir + "/summary.json", summary_);
    if (config_.quiet) return;
    std::printf("[sgnn] done: %lld steps, %s samples in %s (%s samples/s, trainers waited %.0f%%)",
                static_cast<long long>(report.step), format_count(report.samples).c_str(),
                format_duration(report.elapsed_seconds).c_str(), format_count(rate).c_str(),
                100.0 * report.wait_fraction);
    // Samples a simulator could not produce (non-finite or negative values, or a throw)
    // never reach a trainer; say how many there were.
    if (report.dropped_samples > 0) {
        std::printf("; %s simulated samples dropped as invalid", format_count(report.dropped_samples).c_str());
    }
    std::printf("\n");
    std::printf("[sgnn] held-out");
    if (report.n_classes > 0) {
        std::printf(" | mechanism accuracy %.3f (cross-entropy %.4f)", report.eval_accuracy, report.eval_cross_entropy);
    }
    for (int j = 0; j < report.n_targets; ++j) {
        std::printf(" | %s R2 %.3f RMSE %.4g", config_.target_names[static_cast<std::size_t>(j)].c_str(),
                    report.eval_r2[j], report.eval_rmse[j]);
    }
    std::printf("\n");
    if (report.calibrated) print_calibration(report);
    if (!config_.out_dir.empty()) {
        std::printf("[sgnn] outputs in %s (config.ini, metrics.csv, model.h5, summary.json%s)\n",
                    config_.out_dir.c_str(), calibration_figure_.empty() ? "" : ", calibration.png");
    }
    std::fflush(stdout);
}

double Coordinator::mean_coverage(const comm::TrainerReport& report, int level) const {
    double sum = 0.0;
    for (int j = 0; j < report.n_targets; ++j) sum += report.eval_coverage[j * comm::kCoverageLevels + level];
    return report.n_targets > 0 ? sum / report.n_targets : std::numeric_limits<double>::quiet_NaN();
}

void Coordinator::record_calibration(const comm::TrainerReport& report) {
    io::Json coverage = io::Json::object(), p_values = io::Json::object(), histograms = io::Json::object();
    io::Json mean = io::Json::array(), miscalibrated = io::Json::array();
    for (int l = 0; l < comm::kCoverageLevels; ++l) mean.push_back(mean_coverage(report, l));
    for (int j = 0; j < report.n_targets; ++j) {
        const std::string& name = config_.target_names[static_cast<std::size_t>(j)];
        const double* c = report.eval_coverage + j * comm::kCoverageLevels;
        coverage[name] = std::vector<double>(c, c + comm::kCoverageLevels);
        p_values[name] = report.eval_sbc_p[j];
        const double* h = report.eval_pit_histogram + j * comm::kPitBins;
        histograms[name] = std::vector<double>(h, h + comm::kPitBins);
        if (report.eval_sbc_p[j] < comm::kCalibrationSignificance) miscalibrated.push_back(name);
    }
    summary_["calibration"] = {
        {"draws", report.calibration_draws},
        {"levels", std::vector<double>(comm::kCredibleLevels.begin(), comm::kCredibleLevels.end())},
        {"coverage", coverage},
        {"mean_coverage", mean},
        {"sbc_p", p_values},
        {"significance", comm::kCalibrationSignificance},
        {"miscalibrated", miscalibrated},
        {"pit_bins", comm::kPitBins},
        {"pit_histogram", histograms},
    };
    if (config_.out_dir.empty()) return;
    // The figure: rank histograms and the coverage curve (scripts/plot_calibration.py).
    io::write_json_file(config_.out_dir + "/summary.json", summary_);
    const std::string script = io::installed_file("scripts/plot_calibration.py");
    const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    const io::ProcessResult drawn = script.empty()
                                        ? io::ProcessResult{}
                                        : io::run_process({python, script, config_.out_dir}, io::ChildStderr::merge);
    if (drawn.started && drawn.exit_code == 0) {
        calibration_figure_ = config_.out_dir + "/calibration.png";
        summary_["calibration"]["figure"] = "calibration.png";
    } else if (!config_.quiet) {
        std::printf("[sgnn] calibration.png not drawn (%s); the numbers are in summary.json\n",
                    script.empty() ? "scripts/plot_calibration.py is not installed with this sgnn"
                                   : ("python3 with matplotlib: " + drawn.output.substr(0, 200)).c_str());
    }
}

void Coordinator::print_calibration(const comm::TrainerReport& report) const {
    std::printf("[sgnn] calibration (%d draws per held-out sample) | coverage", report.calibration_draws);
    for (int l = 0; l < comm::kCoverageLevels; ++l) {
        std::printf(" %s%% %.3f", format_number(100 * comm::kCredibleLevels[static_cast<std::size_t>(l)]).c_str(),
                    mean_coverage(report, l));
    }
    std::string failing;
    for (int j = 0; j < report.n_targets; ++j) {
        if (report.eval_sbc_p[j] >= comm::kCalibrationSignificance) continue;
        char p[32];
        std::snprintf(p, sizeof p, "%.2g", report.eval_sbc_p[j]);
        failing +=
            (failing.empty() ? "" : ", ") + config_.target_names[static_cast<std::size_t>(j)] + " (p = " + p + ")";
    }
    if (failing.empty()) {
        std::printf(" | ranks uniform for every target (p >= %g)\n", comm::kCalibrationSignificance);
        return;
    }
    std::printf(
        "\n[sgnn] WARNING: the posterior is not calibrated: the ranks of %s fail the uniformity test at the "
        "%g level. Its intervals cannot be trusted as stated; train longer or on more simulations, or give "
        "the head more capacity (model.flow_transforms, model.components)\n",
        failing.c_str(), comm::kCalibrationSignificance);
}

}  // namespace sgnn::coord
