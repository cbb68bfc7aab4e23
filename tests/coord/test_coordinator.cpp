// The coordinator role on its own, under MPI: the real Coordinator against a scripted
// trainer that speaks comm/protocol.hpp (no LibTorch, no simulators).
//
//   mpiexec -n 2 test_coordinator OUT_DIR
//
// Rank 0 runs the coordinator, rank 1 plays trainer 0. Three runs, checking that
//   1. reports become metrics.csv rows (one per evaluation and the final one),
//      config.ini and summary.json (steps, model hash, held-out R2) are written, and the
//      coordinator finishes on the final report;
//   2. a SIGUSR1 on the coordinator becomes one checkpoint-and-stop request; the
//      coordinator joins the checkpoint write on the trainer's checkpoint report (the
//      file holds its run record: config and the metrics so far) and finishes, stopped,
//      on the stopped report;
//   3. a run resumed from that checkpoint continues the metrics rows and says where it
//      resumed from in summary.json.
// Exit status 0 when every check holds on every rank.
#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/checkpoint/signals.hpp"
#include "sgnn/checkpoint/writer.hpp"
#include "sgnn/comm/backoff.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/coord/coordinator.hpp"
#include "sgnn/coord/schedule.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/stop.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "support/fake_task.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace sgnn;

constexpr std::int64_t kSteps = 10;
constexpr const char* kHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr const char* kConfig = "# test\n[train]\nsteps = 10\n";

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int count_lines(const std::string& text) {
    int lines = 0;
    for (char c : text) lines += c == '\n' ? 1 : 0;
    return lines;
}

coord::CoordinatorConfig coordinator_config(const std::string& out_dir, const checkpoint::Contents* resume) {
    coord::CoordinatorConfig config;
    config.run_name = "test";
    config.run_id = "0123abcd";
    config.out_dir = out_dir;
    config.effective_config = kConfig;
    config.total_steps = kSteps;
    config.batch_size = 4;
    config.seed = 3;
    config.target_names = {"x"};
    config.quiet = true;
    config.resume = resume;
    config.live_simulators = false;  // nothing to publish to
    return config;
}

// Runs the coordinator until it finishes; returns it for its summary.
std::unique_ptr<coord::Coordinator> run_coordinator(const stream::Communicators& comms,
                                                    const stream::RankLayout& layout, checkpoint::Writer& writer,
                                                    const std::string& out_dir, const checkpoint::Contents* resume) {
    const coord::PriorSchedule schedule({}, 1, kSteps);
    auto coordinator =
        std::make_unique<coord::Coordinator>(comms, layout, schedule, coordinator_config(out_dir, resume), writer);
    comm::Backoff backoff;
    while (!coordinator->finished()) {
        if (coordinator->poll()) {
            backoff.reset();
        } else {
            backoff.idle();
        }
    }
    return coordinator;
}

// The scripted trainer 0.
class ScriptedTrainer {
public:
    ScriptedTrainer(const stream::Communicators& comms, const stream::RankLayout& layout)
        : comms_(comms), layout_(layout) {}

    void send(comm::ReportKind kind, std::int64_t step) {
        comm::TrainerReport report{};
        report.kind = kind;
        report.n_targets = 1;
        report.step = step;
        report.elapsed_seconds = 0.01 * static_cast<double>(step);
        report.samples = 4.0 * static_cast<double>(step);
        report.train_loss = 1.0 / static_cast<double>(step);
        report.eval_loss = 0.5;
        report.eval_r2[0] = 0.9;
        report.eval_rmse[0] = 0.1;
        if (kind == comm::ReportKind::final)
            std::snprintf(report.model_sha256, sizeof report.model_sha256, "%s", kHash);
        if (kind == comm::ReportKind::checkpoint || kind == comm::ReportKind::stopped) {
            report.request_flags = request_.flags;
            report.signal = request_.signal;
        }
        std::vector<MPI_Request> send(1);
        comm::check_mpi(MPI_Isend(&report, sizeof report, MPI_BYTE, stream::RankLayout::coordinator_rank(),
                                  comm::kTagReport, comms_.control(), send.data()),
                        "MPI_Isend(report)");
        comm::wait_all(send, "MPI_Test(report)");
    }

    // Progress reports, one per step from `first`, until a checkpoint request arrives.
    std::int64_t report_until_request(std::int64_t first) {
        std::vector<MPI_Request> receive(1);
        comm::check_mpi(MPI_Irecv(&request_, sizeof request_, MPI_BYTE, stream::RankLayout::coordinator_rank(),
                                  comm::kTagCheckpointRequest, comms_.control(), receive.data()),
                        "MPI_Irecv(checkpoint request)");
        for (std::int64_t step = first;; ++step) {
            send(comm::ReportKind::progress, step);
            if (comm::test_all(receive, "MPI_Test(checkpoint request)")) return step;
            comm::Backoff().idle();
        }
    }

    // Trainer 0's share of the checkpoint: what checkpoint::read needs of a trainer.
    void contribute(checkpoint::Writer& writer, const std::string& out_dir, std::int64_t step) {
        namespace schema = checkpoint::schema;
        std::vector<io::Dataset> datasets = {io::make_dataset<float>(schema::parameter("w"), {1.0f, 2.0f}),
                                             io::make_dataset<std::int64_t>(schema::kStep, {step}),
                                             io::make_dataset<double>(schema::kElapsedSeconds, {0.5})};
        stream::StreamState state;
        state.watermark = static_cast<std::uint64_t>(step);
        stream::StreamConfig config;
        config.batch_size = 4;
        for (io::Dataset& d : checkpoint::stream_state(0, state, layout_.feeders_of(0), config, 1)) {
            datasets.push_back(std::move(d));
        }
        writer.contribute(checkpoint::checkpoint_path(out_dir, step), std::move(datasets));
    }

    const comm::CheckpointRequest& request() const { return request_; }

private:
    const stream::Communicators& comms_;
    const stream::RankLayout& layout_;
    comm::CheckpointRequest request_{};
};

}  // namespace

int main(int argc, char** argv) {
    const comm::MpiSession mpi(&argc, &argv);
    const int rank = mpi.world_rank();
    if (mpi.world_size() != 2 || argc != 2) {
        if (rank == 0) std::fprintf(stderr, "usage: mpiexec -n 2 test_coordinator OUT_DIR\n");
        return 2;
    }
    const std::string root = argv[1];
    const std::string finished_dir = root + "/finished", stopped_dir = root + "/stopped",
                      resumed_dir = root + "/resumed";
    if (rank == 0) {
        std::filesystem::remove_all(root);
        for (const std::string& dir : {finished_dir, stopped_dir, resumed_dir}) {
            std::filesystem::create_directories(checkpoint::checkpoint_directory(dir));
        }
    }
    comm::barrier(MPI_COMM_WORLD, "MPI_Barrier(directories)");
    const stream::RankLayout layout(2, 1);
    const stream::Communicators comms(layout, rank);
    testing::Checks checks(rank);
    const bool coordinates = rank == stream::RankLayout::coordinator_rank();

    // 1. A run to the end.
    {
        checkpoint::Writer writer(comms.checkpointers(), 1, 60.0);
        if (coordinates) {
            const auto coordinator = run_coordinator(comms, layout, writer, finished_dir, nullptr);
            checks.expect(!coordinator->stopped_on_signal(), "a run to the end is not stopped");
            const std::string metrics = read_text(finished_dir + "/metrics.csv");
            checks.expect(metrics.rfind("step,samples,elapsed_s,", 0) == 0 && metrics.find("r2_x") != std::string::npos,
                          "metrics.csv has its header with r2_x");
            checks.expect(count_lines(metrics) == 3, "metrics.csv: a header and two rows (evaluation, final), not " +
                                                         std::to_string(count_lines(metrics) - 1));
            checks.expect(read_text(finished_dir + "/config.ini") == kConfig, "config.ini is the effective config");
            const io::Json summary = io::Json::parse(read_text(finished_dir + "/summary.json"));
            checks.expect(summary.at("steps") == kSteps && summary.at("model_sha256") == kHash &&
                              summary.at("eval").at("r2").at("x") == 0.9 && summary.at("run_id") == "0123abcd",
                          "summary.json has the steps, model hash, held-out R2 and run id");
            checks.expect(summary == coordinator->summary(), "summary.json is the coordinator's summary");
        } else {
            ScriptedTrainer trainer(comms, layout);
            for (std::int64_t step = 1; step < kSteps; ++step) {
                trainer.send(step == 5 ? comm::ReportKind::evaluation : comm::ReportKind::progress, step);
            }
            trainer.send(comm::ReportKind::final, kSteps);
        }
    }

    // 2. SIGUSR1 on the coordinator: a checkpoint, then a stop.
    std::string checkpoint_file;
    {
        checkpoint::Writer writer(comms.checkpointers(), 1, 60.0);
        if (coordinates) {
            checkpoint::install_stop_signal_handlers();
            std::raise(SIGUSR1);  // recorded by the handler; the coordinator sees it when polled
            const auto coordinator = run_coordinator(comms, layout, writer, stopped_dir, nullptr);
            sgnn::detail::stop_signal_number = 0;  // the later runs see no signal
            checks.expect(coordinator->stopped_on_signal(), "the coordinator finished stopped on the signal");
            checks.expect(!std::filesystem::exists(stopped_dir + "/summary.json"), "a stopped run has no summary");
            const std::vector<std::string> written =
                checkpoint::list_checkpoints(checkpoint::checkpoint_directory(stopped_dir));
            checks.expect(written.size() == 1, "one checkpoint written");
            if (!written.empty()) checkpoint_file = written[0];
        } else {
            ScriptedTrainer trainer(comms, layout);
            trainer.send(comm::ReportKind::evaluation, 1);
            const std::int64_t step = trainer.report_until_request(2);
            checks.expect(trainer.request().flags == (comm::kRequestCheckpoint | comm::kRequestStop) &&
                              trainer.request().signal == SIGUSR1,
                          "the request asks for a checkpoint and a stop, naming SIGUSR1");
            trainer.send(comm::ReportKind::checkpoint, step);
            trainer.contribute(writer, stopped_dir, step);
            trainer.send(comm::ReportKind::stopped, step);
        }
    }
    checkpoint_file = comm::broadcast_text(comms.control(), checkpoint_file);

    // 3. Resumed from that checkpoint: the metrics continue.
    if (!checkpoint_file.empty()) {
        const checkpoint::Contents contents = checkpoint::read(checkpoint_file, 4, 6, 1);
        checks.expect(contents.config_ini == kConfig && contents.attributes.at("run_id") == "0123abcd",
                      "the checkpoint holds the coordinator's run record");
        checks.expect(count_lines(contents.metrics_csv) == 2, "the checkpoint holds the one evaluation row so far");
        checks.expect(contents.model.count(checkpoint::schema::parameter("w")) == 1,
                      "the checkpoint holds the trainer's part");
        checkpoint::Writer writer(comms.checkpointers(), 1, 60.0);
        if (coordinates) {
            const auto coordinator = run_coordinator(comms, layout, writer, resumed_dir, &contents);
            const std::string metrics = read_text(resumed_dir + "/metrics.csv");
            checks.expect(count_lines(metrics) == 3, "the resumed metrics.csv: the restored row and the final one");
            const io::Json& summary = coordinator->summary();
            checks.expect(summary.contains("resumed_from") &&
                              summary.at("resumed_from").at("checkpoint") == checkpoint_file &&
                              summary.at("resumed_from").at("step") == contents.step,
                          "summary.json says where the run resumed from");
        } else {
            ScriptedTrainer trainer(comms, layout);
            trainer.send(comm::ReportKind::final, kSteps);
        }
    }

    return checks.all_passed("coordinator role") ? 0 : 1;
}
