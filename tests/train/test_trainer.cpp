// The trainer role on its own, under MPI: two trainers against a scripted coordinator,
// with a fake task simulated inline (no simulator ranks, no coordinator module).
//
//   mpiexec -n 3 test_trainer OUT_DIR
//
// Rank 0 plays the coordinator by hand through comm/protocol.hpp; ranks 1 and 2 are
// trainers 0 and 1. Three runs of 40 steps, checking that
//   1. a full run reports progress, an evaluation at step 20 and a final report with
//      finite held-out metrics and the model hash; model.h5 is written;
//   2. a stop request sent to trainer 1 alone is served by both trainers at the same
//      step (the checkpoint agreement): one checkpoint holds both trainers' stream
//      positions and trainer 0's model, and both trainers stop;
//   3. a run resumed from that checkpoint (checkpoint::read, each part restored) ends
//      with the same model bits as the uninterrupted run.
// Exit status 0 when every check holds on every rank.
#include "sgnn/checkpoint/files.hpp"
#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/checkpoint/writer.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/sha256.hpp"
#include "sgnn/stream/batch_source.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/train/trainer.hpp"
#include "support/fake_task.hpp"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace sgnn;

constexpr std::int64_t kSteps = 40;
constexpr std::int64_t kStopAfter = 10;  // the scripted coordinator asks for a stop after this step
constexpr double kTimeout = 60.0;

train::TrainConfig trainer_config(const std::string& out_dir) {
    train::TrainConfig config;
    config.steps = kSteps;
    config.batch_size = 32;
    config.seed = 5;
    config.eval_every = 20;
    config.eval_samples = 256;
    config.norm_samples = 256;
    config.model.hidden = 16;
    config.model.blocks = 1;
    config.optimizer.warmup_steps = 5;
    config.optimizer.learning_rate = 3e-3;
    config.report_interval = 0.0;  // a report after every step: the script sees each one
    config.out_dir = out_dir;
    config.model_path = out_dir + "/model.h5";
    return config;
}

stream::StreamConfig stream_config(std::uint64_t batch_origin = 0) {
    stream::StreamConfig config;
    config.seed = 5;
    config.batch_size = 32;
    config.deterministic = true;
    config.batch_origin = batch_origin;
    return config;
}

comm::ScheduleStage full_prior(std::uint64_t) { return {0, std::numeric_limits<std::uint64_t>::max(), 1.0, 1, 0}; }

struct TrainerOutcome {
    bool stopped = false;
};

// Runs one trainer until it finishes. `resume`: the checkpoint it continues, or nullptr.
TrainerOutcome run_trainer(const stream::Communicators& comms, const stream::RankLayout& layout, const sim::Task& task,
                           const std::string& out_dir, checkpoint::Writer& writer, const checkpoint::Contents* resume) {
    const int t = layout.trainer_index(comms.world_rank());
    stream::StreamState state;
    if (resume != nullptr) state = resume->streams.at(static_cast<std::size_t>(t));
    stream::InlineBatchSource source(task, stream_config(resume != nullptr ? resume->batch_origin : 0), t,
                                     layout.trainers(), full_prior, std::move(state));
    train::Trainer trainer(comms, layout, task, trainer_config(out_dir), source, writer, resume);
    while (!trainer.finished()) trainer.poll();
    return {trainer.stopped_on_signal()};
}

comm::TrainerReport receive_report(const stream::Communicators& comms, const stream::RankLayout& layout) {
    comm::TrainerReport report{};
    std::vector<MPI_Request> receive(1);
    comm::check_mpi(MPI_Irecv(&report, sizeof report, MPI_BYTE, layout.trainer_rank(0), comm::kTagReport,
                              comms.control(), receive.data()),
                    "MPI_Irecv(report)");
    comm::wait_all(receive, "MPI_Test(report)");
    return report;
}

// The coordinator's share of a checkpoint, as coord/coordinator.cpp writes it.
void contribute_run_record(checkpoint::Writer& writer, const std::string& out_dir, std::int64_t step) {
    namespace schema = checkpoint::schema;
    const std::string config = "[test]\nseed = 5\n";
    checkpoint::RootAttributes record;
    record.run_id = "test";
    record.step = step;
    record.trainers = 2;
    record.seed = 5;
    record.deterministic = true;
    record.batch_size = 32;
    record.config_ini = config;
    record.sgnn_version = "test";
    writer.contribute(checkpoint::checkpoint_path(out_dir, step),
                      {io::make_text_dataset(schema::kConfig, config), io::make_text_dataset(schema::kMetricsCsv, "")},
                      checkpoint::root_attributes(record));
}

// The scripted coordinator of one run. Returns the final (or stopped) report; with
// `stop_after` > 0 it asks trainer 1 alone for a checkpoint and a stop once a report
// of that step arrives, and joins the checkpoint write.
comm::TrainerReport coordinate(const stream::Communicators& comms, const stream::RankLayout& layout,
                               checkpoint::Writer& writer, const std::string& out_dir, std::int64_t stop_after,
                               testing::Checks& checks, std::vector<comm::TrainerReport>& seen) {
    comm::CheckpointRequest request{comm::kRequestCheckpoint | comm::kRequestStop, SIGUSR1, 1, 0};
    bool asked = false;
    for (;;) {
        const comm::TrainerReport report = receive_report(comms, layout);
        seen.push_back(report);
        if (report.kind == comm::ReportKind::final || report.kind == comm::ReportKind::stopped) return report;
        if (report.kind == comm::ReportKind::checkpoint) {
            checks.expect(asked && report.request_flags == request.flags && report.signal == SIGUSR1,
                          "a checkpoint report carries the agreed request's flags and signal");
            contribute_run_record(writer, out_dir, report.step);
        }
        if (stop_after > 0 && !asked && report.step >= stop_after) {
            comm::check_mpi(MPI_Send(&request, sizeof request, MPI_BYTE, layout.trainer_rank(1),
                                     comm::kTagCheckpointRequest, comms.control()),
                            "MPI_Send(checkpoint request)");
            asked = true;
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    const comm::MpiSession mpi(&argc, &argv);
    const int rank = mpi.world_rank();
    if (mpi.world_size() != 3 || argc != 2) {
        if (rank == 0) std::fprintf(stderr, "usage: mpiexec -n 3 test_trainer OUT_DIR\n");
        return 2;
    }
    const std::string root = argv[1];
    const std::string full_dir = root + "/full", stopped_dir = root + "/stopped";
    if (rank == 0) {
        std::filesystem::remove_all(root);
        for (const std::string& dir : {full_dir, stopped_dir}) {
            std::filesystem::create_directories(checkpoint::checkpoint_directory(dir));
        }
    }
    comm::barrier(MPI_COMM_WORLD, "MPI_Barrier(directories)");

    const stream::RankLayout layout(3, 2);
    const stream::Communicators comms(layout, rank);
    const testing::FakeTask task;
    testing::Checks checks(rank);
    const bool coordinator = rank == stream::RankLayout::coordinator_rank();

    // 1. The full run.
    std::string full_sha;
    {
        checkpoint::Writer writer(comms.checkpointers(), 1, kTimeout);
        if (coordinator) {
            std::vector<comm::TrainerReport> seen;
            const comm::TrainerReport last = coordinate(comms, layout, writer, full_dir, 0, checks, seen);
            int evaluations = 0;
            std::int64_t previous = 0;
            for (const comm::TrainerReport& r : seen) {
                checks.expect(r.step >= previous, "report steps never go back");
                previous = r.step;
                if (r.kind == comm::ReportKind::evaluation) {
                    ++evaluations;
                    checks.expect(r.step == 20,
                                  "the evaluation comes at step 20 (eval.every), not " + std::to_string(r.step));
                }
            }
            checks.expect(evaluations == 1, "one evaluation report before the final one");
            checks.expect(last.kind == comm::ReportKind::final && last.step == kSteps, "a final report at step 40");
            checks.expect(std::isfinite(last.eval_r2[0]) && last.eval_r2[0] > 0.5 && std::isfinite(last.eval_loss),
                          "the held-out R2 of the sum is finite and above 0.5, not " + std::to_string(last.eval_r2[0]));
            checks.expect(last.samples == static_cast<double>(kSteps * 2 * 32), "samples count both trainers' batches");
            full_sha = last.model_sha256;
            checks.expect(full_sha.size() == 64, "the final report carries the model hash");
            checks.expect(std::filesystem::exists(full_dir + "/model.h5"), "trainer 0 wrote model.h5");
        } else {
            checks.expect(!run_trainer(comms, layout, task, full_dir, writer, nullptr).stopped,
                          "the full run ends without a stop");
        }
    }
    full_sha = comm::broadcast_text(comms.control(), full_sha);

    // 2. A stop request to trainer 1 alone: both trainers checkpoint at the same step.
    std::int64_t stopped_at = 0;
    {
        checkpoint::Writer writer(comms.checkpointers(), 1, kTimeout);
        if (coordinator) {
            std::vector<comm::TrainerReport> seen;
            const comm::TrainerReport last = coordinate(comms, layout, writer, stopped_dir, kStopAfter, checks, seen);
            checks.expect(last.kind == comm::ReportKind::stopped && last.signal == SIGUSR1,
                          "the run ends with a stopped report naming SIGUSR1");
            stopped_at = last.step;
            checks.expect(
                // Trainer 0 reports step 10 before the trainers agree on step 10, so the request
                // can already be in that agreement.
                stopped_at >= kStopAfter && stopped_at < kSteps,
                "the stop comes no earlier than the step the request answered, and before the end (step " +
                    std::to_string(stopped_at) + ")");
            checks.expect(!std::filesystem::exists(stopped_dir + "/model.h5"), "a stopped run writes no model.h5");
        } else {
            checks.expect(run_trainer(comms, layout, task, stopped_dir, writer, nullptr).stopped,
                          "trainer " + std::to_string(layout.trainer_index(rank)) + " stopped on the request");
        }
    }
    stopped_at = std::stoll(comm::broadcast_text(comms.control(), std::to_string(stopped_at)));
    const std::vector<std::string> written =
        checkpoint::list_checkpoints(checkpoint::checkpoint_directory(stopped_dir));
    checks.expect(written.size() == 1 && written[0] == checkpoint::checkpoint_path(stopped_dir, stopped_at),
                  "one checkpoint, at the step both trainers stopped");

    // 3. Resumed from it, the run ends with the uninterrupted run's model bits.
    if (written.size() == 1) {
        const checkpoint::Contents contents = checkpoint::read(written[0], 32, 6, 1);
        checks.expect(contents.step == stopped_at && contents.trainers == 2 && contents.streams.size() == 2,
                      "the checkpoint holds the step and both trainers' stream positions");
        checks.expect(contents.streams[0].watermark == static_cast<std::uint64_t>(stopped_at) &&
                          contents.streams[1].watermark == static_cast<std::uint64_t>(stopped_at),
                      "each trainer consumed exactly its first " + std::to_string(stopped_at) + " batches");
        checkpoint::Writer writer(comms.checkpointers(), 1, kTimeout);
        if (coordinator) {
            std::vector<comm::TrainerReport> seen;
            const comm::TrainerReport last = coordinate(comms, layout, writer, stopped_dir, 0, checks, seen);
            checks.expect(!seen.empty() && seen.front().step == stopped_at + 1,
                          "the resumed run's first report is for step " + std::to_string(stopped_at + 1));
            checks.expect(last.kind == comm::ReportKind::final && std::string(last.model_sha256) == full_sha,
                          "the resumed run ends with the uninterrupted run's model (" + std::string(last.model_sha256) +
                              " vs " + full_sha + ")");
        } else {
            run_trainer(comms, layout, task, stopped_dir, writer, &contents);
        }
    }

    return checks.all_passed("trainer role") ? 0 : 1;
}
