// The k-nearest search of back-to-simulation attribution, in a network's embedding
// space: `sgnn attribute` and the attribution experiment use this one search.
//
// Distances are squared Euclidean, summed in coordinate order, so the same query
// against the same bank selects the same neighbours on every machine; ties go to the
// lower bank index. The experiment sums in float (millions of queries); `sgnn
// attribute`, one query whose distances it prints, in double.
#pragma once

#include <vector>

namespace sgnn::bank {

// Squared distances from `query` (width floats) to each of the first `rows` rows of
// `bank` (row-major, width floats per row), into `out` (resized to rows).
void squared_distances(const float* query, const float* bank, int width, int rows, std::vector<float>& out);
void squared_distances(const float* query, const float* bank, int width, int rows, std::vector<double>& out);

// Indices of the k smallest of the first n distances (ties: the lower index), in a
// fixed but unspecified order (sort them by distance to list them). Needs 1 <= k <= n.
std::vector<int> nearest(const std::vector<float>& distance, int n, int k);
std::vector<int> nearest(const std::vector<double>& distance, int n, int k);

}  // namespace sgnn::bank
