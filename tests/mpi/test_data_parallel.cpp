// Data-parallel equivalence, run as: mpiexec -n 2 sgnn_test_data_parallel
//
// Two replicas that start from different seeds (the broadcast from trainer 0 must make
// them equal) train K steps on local batches b1 and b2 with bucketed gradient
// allreduce. Checks: (1) both replicas hold bitwise identical parameters after every
// step; (2) rank 0's replica matches, within float tolerance, a lone learner trained
// on b1 ∪ b2 with the same total batch.
#include "learner.hpp"
#include "sgnn/comm/mpi.hpp"

#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace sgnn::train;

namespace {

int failures = 0;

void expect(bool ok, const char* what, int rank) {
    if (!ok) {
        std::fprintf(stderr, "FAILED on rank %d: %s\n", rank, what);
        ++failures;
    }
}

}  // namespace

int main(int argc, char** argv) {
    const sgnn::comm::MpiSession mpi(&argc, &argv);
    const int rank = mpi.world_rank(), size = mpi.world_size();
    if (size != 2) {
        if (rank == 0) std::fprintf(stderr, "run with exactly 2 ranks\n");
        return 2;
    }
    torch::set_num_threads(1);
    ModelConfig model;
    model.hidden = 32;
    model.blocks = 2;
    OptimizerConfig optimizer;
    optimizer.bucket_mb = 0.004;  // ~4 KiB buckets: several buckets, started during backward
    const int n_in = 20, batch = 16, steps = 5;
    // Three regression targets (some masked, as in a mixture) and two classes.
    LossSpec loss;
    loss.n_targets = 3;
    loss.n_classes = 2;
    const int n_out = loss.n_targets;

    Learner replica(model, optimizer, loss, n_in, MPI_COMM_WORLD, torch::kCPU, 1 + rank);
    Learner alone(model, optimizer, loss, n_in, MPI_COMM_NULL, torch::kCPU, 1);
    expect(replica.parameter_sha256() == alone.parameter_sha256(), "broadcast initial parameters equal seed-1 init",
           rank);

    for (int step = 0; step < steps; ++step) {
        torch::manual_seed(1000 + step);  // both ranks make both batches
        const torch::Tensor x = torch::randn({2 * batch, n_in});
        torch::Tensor y = torch::randn({2 * batch, n_out});
        y.index_put_({torch::rand({2 * batch, n_out}) < 0.3}, std::numeric_limits<float>::quiet_NaN());
        const torch::Tensor labels = torch::randint(0, 2, {2 * batch}).to(torch::kFloat);
        const double lr = 1e-3;
        const auto mine_of = [&](const torch::Tensor& t) { return t.slice(0, rank * batch, (rank + 1) * batch); };
        const double replica_loss = replica.step(mine_of(x), mine_of(y), mine_of(labels), lr, batch);
        const double alone_loss = alone.step(x, y, labels, lr, 2 * batch);
        expect(std::isfinite(replica_loss) && std::isfinite(alone_loss), "masked targets give a finite loss", rank);

        const std::string mine = replica.parameter_sha256();
        char theirs[65] = {0};
        sgnn::comm::check_mpi(MPI_Sendrecv(mine.data(), 64, MPI_CHAR, 1 - rank, 0, theirs, 64, MPI_CHAR, 1 - rank, 0,
                                           MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                              "MPI_Sendrecv(parameter hashes)");
        expect(std::memcmp(mine.data(), theirs, 64) == 0, "replicas bitwise identical after a step", rank);
    }

    // Float tolerance: the two computations sum the same terms in different orders
    // (per-replica sums then allreduce, against one sum over 32 samples). Rounding is
    // ~1e-7 relative per gradient; Adam turns it into parameter differences below
    // lr * 1e-3 per step, far under 1e-5 after 5 steps at lr = 1e-3.
    double max_diff = 0.0;
    const auto a = replica.parameter_arrays(), b = alone.parameter_arrays();
    for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = 0; j < a[i].values.size(); ++j) {
            max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[i].values[j] - b[i].values[j])));
        }
    }
    std::printf("rank %d: max |replica - single learner on b1 u b2| = %.3g\n", rank, max_diff);
    expect(max_diff < 1e-5, "replica matches a single learner on the union batch", rank);
    expect(replica.parameter_sha256() !=
               Learner(model, optimizer, loss, n_in, MPI_COMM_NULL, torch::kCPU, 1).parameter_sha256(),
           "training changed the parameters", rank);

    int total = 0;
    sgnn::comm::check_mpi(MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD),
                          "MPI_Allreduce(failures)");
    if (rank == 0) std::printf(total == 0 ? "data-parallel equivalence: ok\n" : "data-parallel equivalence: FAILED\n");
    return total == 0 ? 0 : 1;
}
