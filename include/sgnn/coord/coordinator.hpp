// The coordinator role (rank 0): publishes the prior schedule to simulator workers
// ahead of need, turns trainer reports into progress lines and metrics.csv rows,
// writes config.ini at the start and summary.json at the end, asks the trainers for
// checkpoints (every checkpoint.minutes, and on SIGTERM/SIGUSR1 anywhere) and writes
// its share of each one.
#pragma once

#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/checkpoint/writer.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/coord/progress.hpp"
#include "sgnn/coord/schedule.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::coord {

struct CoordinatorConfig {
    std::string run_name;
    std::string run_id;            // checkpoint/files.hpp: stored in checkpoints, rotation keeps to it
    std::string out_dir;           // empty: write nothing (benchmarks)
    std::string effective_config;  // INI text of every option's effective value
    std::int64_t total_steps = 0;
    int batch_size = 0;
    std::uint64_t seed = 0;
    bool deterministic = false;
    std::vector<std::string> target_names;
    std::vector<std::string> class_names;  // mechanisms, when the task classifies them
    bool calibrated = false;               // a density head: trainers send calibration (train/calibration.hpp)
    double progress_interval = 2.0;        // seconds between progress lines; 0 prints evaluations only
    bool quiet = false;                    // no progress lines at all
    std::string sgnn_version;
    int checkpoint_keep = 3;                       // newest checkpoints kept
    double checkpoint_minutes = 0;                 // wall minutes between checkpoints; 0: none on time
    std::uint64_t batch_origin = 0;                // stream/resume.hpp
    std::int64_t origin_step = 0;                  // the step at which batch_origin starts
    std::uint64_t first_batch = 0;                 // the earliest batch simulators make (a resumed run's)
    const checkpoint::Contents* resume = nullptr;  // the checkpoint this run continues, or nullptr
    bool live_simulators = true;                   // false: trainers read a corpus; no schedule to publish
};

class Coordinator {
public:
    Coordinator(const stream::Communicators& comms, const stream::RankLayout& layout, const PriorSchedule& schedule,
                CoordinatorConfig config, checkpoint::Writer& checkpoints);
    ~Coordinator();

    bool poll();
    bool finished() const { return finished_; }
    // Whether the run stopped early on a signal, after a checkpoint.
    bool stopped_on_signal() const { return stopped_; }
    // summary.json's content, complete once finished().
    const io::Json& summary() const { return summary_; }

private:
    void publish(int version);
    void handle(const comm::TrainerReport& report);
    void print_line(const comm::TrainerReport& report, bool evaluation);
    void record_evaluation(const comm::TrainerReport& report);
    // Density heads: calibration in summary.json and calibration.png, and its last lines.
    double mean_coverage(const comm::TrainerReport& report, int level) const;
    void record_calibration(const comm::TrainerReport& report);
    void print_calibration(const comm::TrainerReport& report) const;
    void finish(const comm::TrainerReport& report);
    void request_checkpoint(std::int32_t flags, std::int32_t signal);
    bool watch_for_requests();
    std::vector<io::Dataset> checkpoint_state() const;
    std::map<std::string, std::string> checkpoint_attributes(std::int64_t step) const;
    void write_checkpoint(const comm::TrainerReport& report);
    void report_stop(const comm::TrainerReport& report);

    const stream::Communicators& comms_;
    const stream::RankLayout& layout_;
    const PriorSchedule& schedule_;
    CoordinatorConfig config_;
    std::unique_ptr<io::CsvTable> metrics_;
    io::Json summary_;

    comm::TrainerReport incoming_{};
    MPI_Request report_request_ = MPI_REQUEST_NULL;
    std::deque<comm::ScheduleStage> stage_messages_;  // deque: stable addresses for Isend
    std::vector<MPI_Request> stage_requests_;
    int published_ = -1;

    checkpoint::Writer& checkpoints_;
    std::deque<comm::CheckpointRequest> request_messages_;
    std::vector<MPI_Request> request_sends_;
    std::int32_t last_request_id_ = 0;
    bool stop_requested_ = false;
    double last_checkpoint_ = 0.0;  // seconds since start
    std::int32_t signal_notice_ = 0;
    MPI_Request signal_receive_ = MPI_REQUEST_NULL;
    bool stopped_ = false;
    std::string calibration_figure_;  // calibration.png once drawn

    std::chrono::steady_clock::time_point started_;
    double last_print_ = -1e9;
    RateEstimate step_rate_;
    RateEstimate sample_rate_;
    bool received_final_ = false;
    bool finished_ = false;
};

}  // namespace sgnn::coord
