// Mixtures of mechanisms: each sample first draws its mechanism (a simulator) with
// the weights of sim.mixture, then its parameters, trajectory and observations from
// that mechanism, all from the sample's own stream.
//
// Every mechanism is observed by the same observation model, and must give series of
// the same shape. Targets are the union of what the mechanisms offer: a target a
// mechanism lacks is NaN in its samples (the mask), so one network can regress
// R0 for every mechanism and the latent period only where there is one. The target
// "mechanism" makes the task a classification: the label is the mechanism's index.
#pragma once

#include "sgnn/sim/task.hpp"

#include <memory>

namespace sgnn::sim {

// config.mixture names the mechanisms; throws ConfigError naming sim.mixture or
// sim.targets.
std::unique_ptr<Task> make_mixture_task(const TaskConfig& config);

}  // namespace sgnn::sim
