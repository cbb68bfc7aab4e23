// The coordinator role (rank 0): publishes the prior schedule to simulator workers
// ahead of need, turns trainer reports into progress lines and metrics.csv rows, and
// writes config.ini at the start and summary.json at the end.
#pragma once

#include "sgnn/coord/progress.hpp"
#include "sgnn/coord/report.hpp"
#include "sgnn/coord/schedule.hpp"
#include "sgnn/io/csv.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/mpi_context.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::coord {

struct CoordinatorConfig {
    std::string run_name;
    std::string out_dir;             // empty: write nothing (benchmarks)
    std::string effective_config;    // INI text of every option's effective value
    std::int64_t total_steps = 0;
    int batch_size = 0;
    std::uint64_t seed = 0;
    bool deterministic = false;
    std::vector<std::string> target_names;
    std::vector<std::string> class_names;  // mechanisms, when the task classifies them
    double progress_interval = 2.0;  // seconds between progress lines; 0 prints evaluations only
    bool quiet = false;              // no progress lines at all
};

class Coordinator {
public:
    Coordinator(const stream::Communicators& comms, const stream::RankLayout& layout,
                const PriorSchedule& schedule, CoordinatorConfig config);
    ~Coordinator();

    bool poll();
    bool finished() const { return finished_; }
    // summary.json's content, complete once finished().
    const io::Json& summary() const { return summary_; }

private:
    void publish(int version);
    void handle(const TrainerReport& report);
    void print_line(const TrainerReport& report, bool evaluation);
    void record_evaluation(const TrainerReport& report);
    void finish(const TrainerReport& report);

    const stream::Communicators& comms_;
    const stream::RankLayout& layout_;
    const PriorSchedule& schedule_;
    CoordinatorConfig config_;
    std::unique_ptr<io::CsvTable> metrics_;
    io::Json summary_;

    TrainerReport incoming_{};
    MPI_Request report_request_ = MPI_REQUEST_NULL;
    std::deque<stream::ScheduleStage> stage_messages_;  // deque: stable addresses for Isend
    std::vector<MPI_Request> stage_requests_;
    int published_ = -1;

    std::chrono::steady_clock::time_point started_;
    double last_print_ = -1e9;
    RateEstimate step_rate_;
    RateEstimate sample_rate_;
    bool received_final_ = false;
    bool finished_ = false;
};

}  // namespace sgnn::coord
