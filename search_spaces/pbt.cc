#include "search_spaces/pbt.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "search_spaces/space.h"

namespace fersweep::search {
namespace {

bool ranks_before(const MemberScore& a, const MemberScore& b, bool maximize) {
  const bool a_ok = a.value && std::isfinite(*a.value), b_ok = b.value && std::isfinite(*b.value);
  if (a_ok != b_ok) return a_ok;
  if (a_ok && *a.value != *b.value) return maximize ? *a.value > *b.value : *a.value < *b.value;
  return a.member < b.member;
}

Json perturbed_number(const Parameter& p, double x, double factor) {
  const double lo = p.min, hi = p.max;
  switch (p.distribution) {
    case Distribution::kIntUniform: {
      const auto old = static_cast<int64_t>(std::llround(x));
      auto next = static_cast<int64_t>(std::llround(x * factor));
      if (next == old) next = old + (factor > 1 ? 1 : -1);
      return std::clamp(next, static_cast<int64_t>(lo), static_cast<int64_t>(hi));
    }
    case Distribution::kQUniform: {
      const double steps_lo = std::ceil(lo / p.q), steps_hi = std::floor(hi / p.q);
      const double old = std::round(x / p.q);
      double next = std::round(x * factor / p.q);
      if (next == old) next = old + (factor > 1 ? 1 : -1);
      return std::clamp(next, steps_lo, steps_hi) * p.q;
    }
    default:
      return std::clamp(x * factor, lo, hi);
  }
}

Json perturbed(const Parameter& p, const Json& value, bool up) {
  if (p.distribution == Distribution::kValues) {
    const auto at = std::find(p.values.begin(), p.values.end(), value);
    const std::ptrdiff_t index = at == p.values.end() ? 0 : at - p.values.begin();
    const auto last = static_cast<std::ptrdiff_t>(p.values.size()) - 1;
    return p
        .values[static_cast<size_t>(std::clamp<std::ptrdiff_t>(index + (up ? 1 : -1), 0, last))];
  }
  return perturbed_number(p, value.get<double>(), up ? 1.2 : 0.8);
}

}  // namespace

std::vector<Exploit> plan_exploits(std::vector<MemberScore> members, bool maximize, double quantile,
                                   Rng& rng) {
  const size_t n = members.size();
  if (n < 2) return {};
  std::sort(members.begin(), members.end(), [&](const MemberScore& a, const MemberScore& b) {
    return ranks_before(a, b, maximize);
  });
  const size_t cut = std::clamp<size_t>(static_cast<size_t>(std::floor(quantile * n)), 1, n / 2);
  std::vector<Exploit> exploits;
  for (size_t i = n - cut; i < n; ++i) {
    exploits.push_back({members[i].member, members[uniform_index(rng, cut)].member});
  }
  return exploits;
}

Json explore(const Json& params, const std::vector<Parameter>& parameters,
             double resample_probability, Rng& rng) {
  Json out = params;
  for (const Parameter& p : parameters) {
    if (!p.mutable_ || !out.contains(p.name)) continue;
    // Two draws either way, so every later parameter's draws do not depend on this one's branch.
    const double coin = uniform01(rng), u = uniform01(rng);
    out[p.name] = coin < resample_probability ? value_at(p, u) : perturbed(p, out[p.name], u < 0.5);
  }
  return out;
}

}  // namespace fersweep::search
