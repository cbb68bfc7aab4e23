// Which rank does what, and which simulator feeds which trainer.
//
// Rank 0 is the coordinator, ranks 1..T are the trainers and every other rank is a
// simulator worker. With no dedicated simulator ranks (world = T + 1) the coordinator
// rank also runs a simulator worker, so two processes still stream. A single process
// (no mpiexec) holds every role and its trainer simulates its own batches inline.
//
// Batches live in one global index space: trainer t's k-th batch is global batch
// k*T + t (stream/resume.hpp: global_batch_index). Trainer t has F_t feeders; feeder slot j of F_t produces the local batches
// k = j, j+F_t, j+2F_t, ... of that trainer, so feeders own disjoint batch sets.
// Pure arithmetic, no MPI: unit-testable.
#pragma once

#include <cstdint>
#include <vector>

namespace sgnn::stream {

// One trainer that a simulator worker feeds.
struct Lane {
    int trainer_index;  // 0..T-1
    int trainer_rank;
    int feeder_slot;   // j: this feeder makes the trainer's local batches k = j mod feeder_count
    int feeder_count;  // F_t
};

class RankLayout {
public:
    // Throws ConfigError (naming `trainers`) when the layout is impossible.
    RankLayout(int world_size, int trainers);

    int world_size() const { return world_size_; }
    int trainers() const { return trainers_; }
    bool single_process() const { return world_size_ == 1; }

    static constexpr int coordinator_rank() { return 0; }
    int trainer_rank(int trainer_index) const { return single_process() ? 0 : 1 + trainer_index; }
    bool is_trainer(int rank) const;
    int trainer_index(int rank) const;  // -1 if the rank holds no trainer

    // Ranks that run a simulator worker (empty in a single process).
    const std::vector<int>& simulator_ranks() const { return simulator_ranks_; }
    bool is_simulator(int rank) const;
    // Dedicated simulator ranks, as reported to users (the coordinator's helper worker
    // is not counted).
    int dedicated_simulators() const;

    std::vector<int> feeders_of(int trainer_index) const;  // ranks, in feeder-slot order
    std::vector<Lane> lanes_of(int simulator_rank) const;

private:
    int world_size_;
    int trainers_;
    std::vector<int> simulator_ranks_;
};

}  // namespace sgnn::stream
