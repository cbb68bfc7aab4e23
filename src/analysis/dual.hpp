// Forward-mode automatic differentiation for the likelihood fits: a value with its
// partial derivatives by up to N fit coordinates. The mean models and likelihoods are
// templates over their scalar, so one code path gives values (double) and exact
// gradients (Dual) for TAO; a central difference would cost 2n + 1 evaluations per
// gradient, and its truncation error would limit how tightly a fit converges.
#pragma once

#include <array>
#include <cmath>

namespace sgnn::analysis {

template <int N>
struct Dual {
    double v = 0.0;
    std::array<double, N> d{};

    Dual() = default;
    Dual(double value) : v(value) {}  // NOLINT: constants mix with duals
    static Dual variable(double value, int index) {
        Dual x(value);
        x.d[static_cast<std::size_t>(index)] = 1.0;
        return x;
    }
    // f(v) with f'(v) = slope, by the chain rule.
    Dual apply(double value, double slope) const {
        Dual r(value);
        for (int i = 0; i < N; ++i) r.d[i] = slope * d[i];
        return r;
    }
    Dual& operator+=(const Dual& b) {
        v += b.v;
        for (int i = 0; i < N; ++i) d[i] += b.d[i];
        return *this;
    }
    Dual& operator-=(const Dual& b) {
        v -= b.v;
        for (int i = 0; i < N; ++i) d[i] -= b.d[i];
        return *this;
    }
};

template <int N>
Dual<N> operator+(Dual<N> a, const Dual<N>& b) {
    return a += b;
}
template <int N>
Dual<N> operator-(Dual<N> a, const Dual<N>& b) {
    return a -= b;
}
template <int N>
Dual<N> operator-(const Dual<N>& a) {
    return a.apply(-a.v, -1.0);
}
template <int N>
Dual<N> operator*(const Dual<N>& a, const Dual<N>& b) {
    Dual<N> r(a.v * b.v);
    for (int i = 0; i < N; ++i) r.d[i] = a.d[i] * b.v + a.v * b.d[i];
    return r;
}
template <int N>
Dual<N> operator/(const Dual<N>& a, const Dual<N>& b) {
    const double q = a.v / b.v;
    Dual<N> r(q);
    for (int i = 0; i < N; ++i) r.d[i] = (a.d[i] - q * b.d[i]) / b.v;
    return r;
}
template <int N>
Dual<N> operator+(const Dual<N>& a, double b) {
    return a + Dual<N>(b);
}
template <int N>
Dual<N> operator+(double a, const Dual<N>& b) {
    return Dual<N>(a) + b;
}
template <int N>
Dual<N> operator-(const Dual<N>& a, double b) {
    return a - Dual<N>(b);
}
template <int N>
Dual<N> operator-(double a, const Dual<N>& b) {
    return Dual<N>(a) - b;
}
template <int N>
Dual<N> operator*(const Dual<N>& a, double b) {
    return a.apply(a.v * b, b);
}
template <int N>
Dual<N> operator*(double a, const Dual<N>& b) {
    return b.apply(a * b.v, a);
}
template <int N>
Dual<N> operator/(const Dual<N>& a, double b) {
    return a.apply(a.v / b, 1.0 / b);
}
template <int N>
Dual<N> operator/(double a, const Dual<N>& b) {
    return Dual<N>(a) / b;
}

template <int N>
Dual<N> exp(const Dual<N>& a) {
    const double e = std::exp(a.v);
    return a.apply(e, e);
}
template <int N>
Dual<N> expm1(const Dual<N>& a) {
    return a.apply(std::expm1(a.v), std::exp(a.v));
}
template <int N>
Dual<N> log(const Dual<N>& a) {
    return a.apply(std::log(a.v), 1.0 / a.v);
}

inline double value_of(double a) { return a; }
template <int N>
double value_of(const Dual<N>& a) {
    return a.v;
}

}  // namespace sgnn::analysis
