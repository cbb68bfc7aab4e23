// Back-to-simulation attribution.
//
// `sgnn bank` embeds simulations from the `bank` stream with a trained network's
// penultimate layer and stores them, with their parameters and mechanisms, in an HDF5
// memory bank. `sgnn attribute` embeds an observed series the same way and reports
// the k nearest simulations of the bank: their parameters and mechanisms, and the
// distribution they form (the attributed posterior).
#pragma once

#include "sgnn/run/session.hpp"

namespace sgnn::bank {

// Every rank simulates its share and meets errors and stops with the others.
int bank_command(run::Session& session);
constexpr run::ErrorAgreement kBankAgreement{run::Agreement::every_rank, run::Agreement::every_rank};

// One process. Everything it reads is the user's input, so a damaged file is a
// configuration error (exit 2) too.
int attribute_command(run::Session& session);

}  // namespace sgnn::bank
