// Credit flow between a trainer's StreamedBatchSource and its simulator workers, under
// MPI, with a fake task (no simulator, no network): the stream module on its own.
//
//   mpiexec -n P test_credit_flow --slow trainer|simulator
//
// Rank 0 plays the coordinator (it publishes one prior stage), rank 1 the one trainer,
// ranks 2..P-1 simulator workers. The trainer consumes kBatches batches in
// deterministic mode and checks that
//   - it gets global batches 0, 1, 2, ... in order, each bit-identical to the batch
//     fill_batch makes locally from (seed, index): no batch lost, repeated or damaged;
//   - it never holds more than credits x feeders batches, however much faster the
//     simulators are (--slow trainer), which is the memory bound of credit flow;
//   - it waits for data when the simulators are the slow side (--slow simulator);
// and every worker finishes after the trainer's lane stop (no rank hangs: CTest's
// timeout would catch it). Exit status 0 when every check holds on every rank.
#include "sgnn/comm/backoff.hpp"
#include "sgnn/comm/mpi.hpp"
#include "sgnn/comm/protocol.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch_source.hpp"
#include "sgnn/stream/communicators.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "support/fake_task.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <thread>

namespace {

using namespace sgnn;
using testing::FakeTask;

constexpr int kBatches = 60;
constexpr int kCredits = 2;

}  // namespace

int main(int argc, char** argv) {
    const comm::MpiSession mpi(&argc, &argv);
    const int rank = mpi.world_rank();
    const std::string slow = argc == 3 && std::string(argv[1]) == "--slow" ? argv[2] : "";
    if (mpi.world_size() < 3 || (slow != "trainer" && slow != "simulator")) {
        if (rank == 0) std::fprintf(stderr, "usage: mpiexec -n P (P >= 3) test_credit_flow --slow trainer|simulator\n");
        return 2;
    }
    const stream::RankLayout layout(mpi.world_size(), 1);
    stream::Communicators comms(layout, rank);
    const FakeTask task(slow == "simulator" ? 0.004 : 0.0);
    testing::Checks checks(rank);
    const FakeTask reference(0.0);  // the same samples, made at once (the trainer's check)
    stream::StreamConfig config;
    config.seed = 11;
    config.batch_size = 8;
    config.credits = kCredits;
    config.deterministic = true;

    if (rank == stream::RankLayout::coordinator_rank()) {
        // One stage for every batch, to every simulator: what the coordinator publishes.
        comm::ScheduleStage stage{0, std::numeric_limits<std::uint64_t>::max(), 1.0, 1, 0};
        std::vector<MPI_Request> sends;
        for (int simulator : layout.simulator_ranks()) {
            sends.emplace_back();
            comm::check_mpi(MPI_Isend(&stage, sizeof stage, MPI_BYTE, simulator, comm::kTagScheduleStage,
                                      comms.control(), &sends.back()),
                            "MPI_Isend(schedule stage)");
        }
        comm::wait_all(sends, "MPI_Testall(schedule stages)");
    } else if (layout.is_trainer(rank)) {
        stream::StreamedBatchSource source(comms, layout, task, config);
        stream::BatchBuffer expected(config.batch_size, task.layout().n_inputs, task.layout().n_targets());
        for (int k = 0; k < kBatches; ++k) {
            const stream::BatchBuffer& batch = source.acquire();
            checks.expect(batch.header().batch_index == static_cast<std::uint64_t>(k),
                          "batch " + std::to_string(k) + " arrives in order (got " +
                              std::to_string(batch.header().batch_index) + ")");
            stream::fill_batch(reference, config, static_cast<std::uint64_t>(k), {0, ~0ull, 1.0, 1, 0}, expected);
            checks.expect(
                batch.size_bytes() == expected.size_bytes() &&
                    std::memcmp(batch.data(), expected.data(), static_cast<std::size_t>(batch.size_bytes())) == 0,
                "batch " + std::to_string(k) + " is bit-identical to the one made from (seed, index)");
            if (slow == "trainer") std::this_thread::sleep_for(std::chrono::milliseconds(3));
            source.release();
        }
        source.finish();
        const stream::SourceStats& stats = source.stats();
        const int feeders = static_cast<int>(layout.feeders_of(0).size());
        std::printf("trainer: %d feeders, at most %d batches held (bound %d), waited %.3f s\n", feeders,
                    stats.max_buffered_batches, kCredits * feeders, stats.wait_seconds);
        checks.expect(stats.max_buffered_batches <= kCredits * feeders,
                      "at most credits x feeders = " + std::to_string(kCredits * feeders) + " batches held, not " +
                          std::to_string(stats.max_buffered_batches));
        checks.expect(stats.batches == static_cast<std::uint64_t>(kBatches), "every batch counted");
        if (slow == "trainer") {
            checks.expect(stats.max_buffered_batches >= 1, "the fast simulators filled the trainer's slots");
        } else {
            checks.expect(stats.wait_seconds > 0.0, "the trainer waited for the slow simulators");
        }
    }
    if (layout.is_simulator(rank)) {
        stream::SimulatorWorker worker(comms, layout, task, config);
        comm::Backoff backoff;
        while (!worker.finished()) {
            if (worker.poll()) {
                backoff.reset();
            } else {
                backoff.idle();
            }
        }
    }
    return checks.all_passed("credit flow (" + slow + " slow)") ? 0 : 1;
}
